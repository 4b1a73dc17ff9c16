/* The refund slip's print button: the Content-Security-Policy allows no inline script or onclick="…". */
"use strict";
document.addEventListener("click", function (event) {
  var button = event.target instanceof Element ? event.target.closest("[data-print]") : null;
  if (button) {
    window.print();
  }
});
