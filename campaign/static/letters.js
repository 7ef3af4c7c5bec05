// While letters render, poll the status and update the bar with its numbers.
(function () {
  document.querySelectorAll(".progress-job").forEach(function (box) {
    var text = box.querySelector(".progress-text");
    var bar = box.querySelector("progress");
    function poll() {
      fetch(box.dataset.url, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.finished) { window.location.reload(); return; }
          bar.max = Math.max(s.total, 1);
          bar.value = s.done;
          var extra = s.per_s ? " (" + s.per_s + " letters a second, about " + s.eta_s + " s left)" : "";
          text.textContent = "Rendering: " + s.done + " of " + s.total + " letters" + extra + ".";
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    setTimeout(poll, 500);
  });
})();
