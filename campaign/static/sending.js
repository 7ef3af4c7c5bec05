// Keep the outbox counts live: every second while emails are queued, then every
// five seconds as delivery reports arrive. Reload once the queue empties, to list
// what was not delivered.
(function () {
  var box = document.getElementById("sending");
  if (!box) return;
  var text = document.getElementById("sending-text");
  var bar = document.getElementById("sending-bar");
  var wasQueued = !box.hasAttribute("data-finished");
  function poll() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (wasQueued && s.finished) { window.location.reload(); return; }
        wasQueued = !s.finished;
        bar.max = Math.max(s.total, 1);
        bar.value = s.done;
        box.querySelectorAll("[data-count]").forEach(function (cell) {
          cell.textContent = s[cell.dataset.count];
        });
        text.textContent = s.done + " of " + s.total + (s.total === 1 ? " email" : " emails") +
          " finished" + (s.finished ? "." : "; " + s.queued + " still queued.");
        setTimeout(poll, s.finished ? 5000 : 1000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
