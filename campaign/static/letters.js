// While letters render (or a print pack is built), poll its status and update its bar and numbers.
// When the job ends (or has waited too long for a worker), swap in that section as
// the server now draws it, so the new count, the check result or the error show
// without a reload; focus moves to the result so screen readers announce it.
(function () {
  function watch(box) {
    var section = box.closest("section");
    var text = box.querySelector(".progress-text");
    var bar = box.querySelector("progress");
    var stale = box.hasAttribute("data-stale");
    function poll() {
      if (!document.body.contains(box)) return; // its section was drawn again
      fetch(box.dataset.url, { headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (r) {
          if (!r.ok) throw new Error("status " + r.status);
          return r.json();
        })
        .then(function (s) {
          if (s.finished || s.stale !== stale) { refresh(section); return; }
          bar.max = Math.max(s.total, 1);
          bar.value = s.done;
          bar.textContent = s.done + " of " + s.total;
          if (text.textContent !== s.text) text.textContent = s.text;
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    setTimeout(poll, 500);
  }

  function refresh(section) {
    fetch(window.location.pathname + window.location.search, { cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById(section.id);
        if (!fresh) throw new Error("no section " + section.id);
        section.replaceWith(fresh);
        fresh.querySelectorAll(".progress-job").forEach(watch);
        var result = fresh.querySelector("[data-result]");
        if (result) result.focus();
      })
      .catch(function () { window.location.reload(); });
  }

  document.querySelectorAll(".progress-job").forEach(watch);
})();
