// Live agent cards on the season page (SPEC §7). Subscribes to the workflow's WebSocket with
// ?after=<last seq> so nothing rendered by the server is repeated; on a dropped connection it
// reconnects with backoff and replays from the last seq it saw; after three failures it polls
// GET /api/workflows/<id>/events?after=<seq> and keeps retrying the socket in the background.
// Events are applied once each, in seq order. Finished steps, approvals, completion and errors fire
// "season-changed" on <body>, which makes htmx reload the season's panels.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-workflow]");
  if (!root) return;

  var lastSeq = parseInt(root.dataset.lastSeq || "0", 10);
  var eventsUrl = root.dataset.eventsUrl;
  var socketPath = root.dataset.socketPath;
  var conn = root.querySelector(".conn");
  var progress = root.querySelector("progress");
  var announce = document.getElementById("live-announce");
  var STATE_WORDS = { idle: "Idle", running: "Running", done: "Done", failed: "Failed", waiting: "Waiting for approval" };
  var STATUS_WORDS = { pending: "Pending", running: "Running", awaiting_approval: "Awaiting approval", completed: "Completed", failed: "Failed" };
  var MAX_LOG_LINES = 60;

  var socket = null;
  var failures = 0;
  var pollTimer = null;
  var retryTimer = null;

  function setConnection(state, text) {
    conn.dataset.conn = state;
    conn.textContent = text;
  }

  function say(text) {
    if (announce) announce.textContent = text;
  }

  // The server's status arrives with every panel reload (an out-of-band swap of the badge);
  // this only gives immediate feedback for the events that change it.
  function statusBadge() {
    return document.getElementById("workflow-status");
  }

  function setStatus(status) {
    var badge = statusBadge();
    badge.dataset.status = status;
    badge.className = "badge status-" + status;
    badge.textContent = STATUS_WORDS[status] || status;
  }

  function active() {
    var status = statusBadge().dataset.status;
    return status === "pending" || status === "running";
  }

  function card(agent) {
    var el = root.querySelector('.agent[data-agent="' + agent + '"]');
    if (el) return el;
    var template = document.getElementById("agent-card-template");
    el = template.content.firstElementChild.cloneNode(true);
    el.dataset.agent = agent;
    el.querySelector(".name").textContent = agent.charAt(0).toUpperCase() + agent.slice(1);
    root.querySelector(".agents").appendChild(el);
    return el;
  }

  function setState(el, state) {
    el.dataset.state = state;
    el.querySelector(".state").textContent = STATE_WORDS[state];
  }

  // An agent waiting for an approval is done once the workflow moves on.
  function releaseWaiting() {
    root.querySelectorAll('.agent[data-state="waiting"]').forEach(function (el) { setState(el, "done"); });
  }

  function log(el, message) {
    var list = el.querySelector(".log");
    var item = document.createElement("li");
    item.textContent = message;
    list.appendChild(item);
    while (list.children.length > MAX_LOG_LINES) list.removeChild(list.firstChild);
    list.scrollTop = list.scrollHeight;
  }

  function summaryOf(result) {
    if (!result) return "";
    if (typeof result === "string") return result;
    return result.summary || "";
  }

  // The seq the server had reached when it rendered the panels: they already show events up to it.
  function panels() {
    return document.getElementById("season-panels");
  }

  function panelsSeq() {
    return panels() ? parseInt(panels().dataset.seq || "0", 10) : 0;
  }

  // Reload the panels once a burst of events has passed (a week's processing emits several), unless
  // they already show them: an upload or approval answers with fresh panels, and reloading them
  // again would wipe what the planner started there meanwhile (a markdown preview, say).
  var changeTimer = null;
  function seasonChanged() {
    clearTimeout(changeTimer);
    changeTimer = setTimeout(function () {
      // A reload already on its way may bring these events: look again once it is in.
      if (panels() && panels().classList.contains("htmx-request")) return seasonChanged();
      if (lastSeq <= panelsSeq()) return;
      document.body.dispatchEvent(new CustomEvent("season-changed", { bubbles: true }));
    }, 300);
  }

  function apply(event) {
    if (typeof event.seq !== "number" || event.seq <= lastSeq) return;
    lastSeq = event.seq;
    root.dataset.lastSeq = String(lastSeq);
    var el = event.agent ? card(event.agent) : null;
    switch (event.type) {
      case "agent_started":
        if (statusBadge().dataset.status === "pending") setStatus("running");
        releaseWaiting();
        setState(el, "running");
        el.querySelector(".summary").textContent = "Working…";
        el.querySelector(".duration").textContent = "";
        log(el, "Started");
        say(event.agent + " agent started");
        break;
      case "agent_progress":
        if (el.dataset.state !== "waiting") setState(el, "running");
        log(el, event.message);
        if (typeof event.progress_pct === "number") {
          progress.value = event.progress_pct;
          progress.textContent = event.progress_pct + "%";
        }
        break;
      case "agent_completed":
        setState(el, "done");
        el.querySelector(".summary").textContent = summaryOf(event.result);
        el.querySelector(".duration").textContent = "Done in " + Number(event.duration_seconds).toFixed(1) + " s" +
          (event.runner === "llm" ? " · LLM agent" : event.runner ? " · rule-based" : "");
        log(el, "Completed");
        say(event.agent + " agent done");
        seasonChanged();
        break;
      case "human_input_required":
        setStatus("awaiting_approval");
        if (el) setState(el, "waiting");
        say("Your approval is needed");
        seasonChanged();
        break;
      case "workflow_complete":
        releaseWaiting();
        setStatus("completed");
        progress.value = 100;
        progress.textContent = "100%";
        say("Workflow complete");
        seasonChanged();
        break;
      case "error":
        setStatus("failed");
        if (el) {
          setState(el, "failed");
          el.querySelector(".summary").textContent = event.error_message;
          log(el, "Failed: " + event.error_message);
        }
        say("Failed: " + event.error_message);
        seasonChanged();
        break;
    }
  }

  function socketUrl() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + location.host + socketPath + "?after=" + lastSeq;
  }

  function connect() {
    clearTimeout(retryTimer);
    if (socket) return;
    setConnection("connecting", pollTimer ? "Live updates by polling; reconnecting…" : "Connecting…");
    try {
      socket = new WebSocket(socketUrl());
    } catch (err) {
      socket = null;
      onFailure();
      return;
    }
    socket.onopen = function () {
      failures = 0;
      stopPolling();
      setConnection("live", "Live");
    };
    socket.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (err) { return; }
      if (event.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
        return;
      }
      apply(event);
    };
    socket.onclose = function () {
      socket = null;
      onFailure();
    };
  }

  function onFailure() {
    failures += 1;
    if (failures >= 3) startPolling();
    // Retry after 1 s, then 2 s; from the third failure poll, and retry the socket every 30 s.
    var delay = failures >= 3 ? 30000 : 1000 * Math.pow(2, failures - 1);
    retryTimer = setTimeout(connect, delay);
    if (!pollTimer) setConnection("connecting", "Reconnecting…");
  }

  function poll() {
    fetch(eventsUrl + "?after=" + lastSeq, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (body) {
        (body.events || []).forEach(apply);
        setConnection("polling", "Live updates by polling");
      })
      .catch(function () { setConnection("closed", "Offline: updates paused, retrying…"); })
      .finally(function () {
        if (pollTimer) pollTimer = setTimeout(poll, active() ? 2000 : 5000);
      });
  }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setTimeout(poll, 0);
  }

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  window.addEventListener("beforeunload", function () {
    if (socket) { socket.onclose = null; socket.close(); }
  });
  connect();
})();
