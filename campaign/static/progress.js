// Poll a job's JSON status; update the bar and its numbers; reload when finished.
(function () {
  var box = document.getElementById("progress");
  if (!box) return;
  var text = document.getElementById("progress-text");
  var bar = document.getElementById("progress-bar");
  function poll() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.finished) { window.location.reload(); return; }
        if (s.state === "running") {
          var expected = Math.max(s.expected, s.read, 1);
          bar.max = expected;
          bar.value = s.read;
          text.textContent = "Read " + s.read.toLocaleString("en-GB") + " of about " +
            expected.toLocaleString("en-GB") + (expected === 1 ? " row." : " rows.");
        }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
