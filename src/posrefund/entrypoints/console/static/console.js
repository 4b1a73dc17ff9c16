/* posrefund console: the little behaviour a page needs besides htmx, as a file of our own, because the
   Content-Security-Policy allows no inline script and no onclick="…" attribute.
   Listeners sit on the document, so parts swapped in by htmx work without being wired again.
   - data-select-on-focus: the field's text is selected when it gets focus (a link to copy by hand);
   - data-copy-from="ID": the button copies the value of the field with that id to the clipboard. */
"use strict";
document.addEventListener("focusin", function (event) {
  var field = event.target;
  if (field instanceof HTMLInputElement && field.hasAttribute("data-select-on-focus")) {
    field.select();
  }
});
document.addEventListener("click", function (event) {
  var button = event.target instanceof Element ? event.target.closest("[data-copy-from]") : null;
  if (!button || !navigator.clipboard) {
    return;
  }
  var source = document.getElementById(button.getAttribute("data-copy-from"));
  if (source instanceof HTMLInputElement) {
    navigator.clipboard.writeText(source.value);
  }
});
