// Move focus to an error summary or result panel so screen readers announce it.
document.addEventListener("DOMContentLoaded", function () {
  var target = document.querySelector("[data-autofocus]");
  if (target) target.focus();
});
