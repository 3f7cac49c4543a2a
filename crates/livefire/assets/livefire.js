// livefire's bootstrap: connects the official LiveView client to the server's live socket.
// Served by livefire at /assets/livefire.js (no inline script, so a strict
// Content-Security-Policy works). The two client bundles must load before it (all three are
// `defer` scripts, which run in document order). An app script that runs before it may set
// `window.livefireHooks` (client hooks for phx-hook) and `window.livefireUploaders` (external
// upload uploaders, by the name the server's presigner returns).
(function () {
  "use strict";
  function connect() {
    var meta = document.querySelector("meta[name='csrf-token']");
    var csrf = meta ? meta.getAttribute("content") : null;
    var liveSocket = new LiveView.LiveSocket("/live", Phoenix.Socket, {
      params: { _csrf_token: csrf },
      hooks: window.livefireHooks || {},
      uploaders: window.livefireUploaders || {},
      // Where a proxy blocks WebSockets, fall back to long polling (/live/longpoll).
      longPollFallbackMs: 2500,
    });
    liveSocket.connect();
    window.liveSocket = liveSocket;
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
})();
