// Shows failed htmx requests (server errors, lost connection) in the page's status line, since
// htmx leaves the page unchanged for them; our views answer validation problems with fragments.
(function () {
  "use strict";
  function show(message) {
    var box = document.getElementById("request-status");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    show("The request failed (" + xhr.status + " " + xhr.statusText + "). Nothing was changed; please try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    show("Could not reach the server. Check the connection and try again.");
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("request-status");
    if (box) box.hidden = true;
  });
})();
