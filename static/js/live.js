// Live season page (SPEC §7). Subscribes to the workflow's WebSocket with ?after=<last seq> so
// nothing rendered by the server is repeated; on a dropped connection it reconnects with backoff and
// replays from the last seq it saw; after three failures it polls
// GET /api/workflows/<id>/events?after=<seq> and keeps retrying the socket in the background.
// The script holds no rules for the agent cards: on new events it reloads the cards fragment, which
// the server renders from all the season's events (planning/selectors/agent_cards.py). Finished
// steps, approvals, completion and errors also reload the season's panels. Both fragments carry the
// seq they were rendered at (data-seq) and are reloaded only when the page has seen a newer event.
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
  var STATUS_WORDS = { pending: "Pending", running: "Running", awaiting_approval: "Awaiting approval", completed: "Completed", failed: "Failed" };

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

  // A reloader for a fragment (#id, an htmx element reloading on `trigger` from <body>) that
  // carries the seq it was rendered at in data-seq. At most one reload per `delay` ms however many
  // events come (a week's processing emits a burst), none when the fragment already shows the
  // events (an upload or approval answers with fresh panels, and reloading them again would wipe
  // what the planner started there meanwhile, a markdown preview say), and a reload still on its
  // way is looked at again once it is in.
  function reloader(id, trigger, delay) {
    var timer = null;
    function check() {
      timer = null;
      var el = document.getElementById(id);
      if (!el) return;
      if (el.classList.contains("htmx-request")) return schedule();
      if (lastSeq > parseInt(el.dataset.seq || "0", 10)) {
        document.body.dispatchEvent(new CustomEvent(trigger, { bubbles: true }));
      }
    }
    function schedule() {
      if (!timer) timer = setTimeout(check, delay);
    }
    return schedule;
  }
  var cardsChanged = reloader("agent-cards", "cards-changed", 100);
  var seasonChanged = reloader("season-panels", "season-changed", 300);

  // Each card's log shows its latest lines (htmx keeps the focus on a log across the reload).
  function scrollLogs() {
    root.querySelectorAll(".agent .log").forEach(function (list) { list.scrollTop = list.scrollHeight; });
  }
  document.body.addEventListener("htmx:afterSettle", function (e) {
    if (e.target.id === "agent-cards") scrollLogs();
  });
  scrollLogs();

  function apply(event) {
    if (typeof event.seq !== "number" || event.seq <= lastSeq) return;
    lastSeq = event.seq;
    root.dataset.lastSeq = String(lastSeq);
    cardsChanged();
    if (typeof event.progress_pct === "number") {
      progress.value = event.progress_pct;
      progress.textContent = event.progress_pct + "%";
    }
    if (event.week_processed) seasonChanged();  // a week's result is in: reload the panels
    switch (event.type) {
      case "agent_started":
        if (statusBadge().dataset.status === "pending") setStatus("running");
        say(event.agent + " agent started");
        break;
      case "agent_completed":
        say(event.agent + " agent done");
        seasonChanged();
        break;
      case "human_input_required":
        setStatus("awaiting_approval");
        say("Your approval is needed");
        seasonChanged();
        break;
      case "workflow_complete":
        if (event.run_kind === "reforecast") {  // a manual re-forecast ran beside the season
          say("Re-forecast complete");
          seasonChanged();
          break;
        }
        setStatus("completed");
        progress.value = 100;
        progress.textContent = "100%";
        say("Workflow complete");
        seasonChanged();
        break;
      case "error":
        setStatus("failed");
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
