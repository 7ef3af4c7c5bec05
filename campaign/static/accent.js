// The Letterhead page shows a heading in the letters' accent colour. Set here from
// data-accent, since the Content-Security-Policy refuses style attributes.
document.querySelectorAll("[data-accent]").forEach(function (sample) {
  if (/^#[0-9a-fA-F]{6}$/.test(sample.dataset.accent)) sample.style.color = sample.dataset.accent;
});
