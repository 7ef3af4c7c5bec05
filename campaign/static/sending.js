// While emails are being sent, poll the outbox counts and update the bar and table.
(function () {
  var box = document.getElementById("sending");
  if (!box || !box.hasAttribute("data-poll")) return;
  var text = document.getElementById("sending-text");
  var bar = document.getElementById("sending-bar");
  function poll() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        bar.max = Math.max(s.total, 1);
        bar.value = s.done;
        box.querySelectorAll("[data-count]").forEach(function (cell) {
          cell.textContent = s[cell.dataset.count];
        });
        if (s.finished) { window.location.reload(); return; }
        text.textContent = s.done + " of " + s.total + (s.total === 1 ? " email" : " emails") +
          " finished; " + s.queued + " still queued.";
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
