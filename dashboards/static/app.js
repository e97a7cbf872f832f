// phosphobs dashboard: the only script the pages load (CSP: script-src 'self').
// It never reads event content into HTML: it only copies text and asks for confirmation.
"use strict";
document.addEventListener("click", function (ev) {
  var button = ev.target.closest("[data-copy]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source) return;
  var text = source.textContent;
  var done = function () { button.textContent = "Copied"; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
  } else {
    selectText(source);
    try { document.execCommand("copy"); done(); } catch (e) { /* selected: the user can press Ctrl+C */ }
  }
});
document.addEventListener("submit", function (ev) {
  var button = ev.submitter;
  var message = button && button.getAttribute("data-confirm");
  if (message && !window.confirm(message)) ev.preventDefault();
});
function selectText(node) {
  var range = document.createRange();
  range.selectNodeContents(node);
  var selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}
