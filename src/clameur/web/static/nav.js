// Clameur: the phone menu. Below 820px the sidebar is a top bar whose "Menu" button unfolds
// the whole navigation; Escape, a click outside or a second press folds it again.
(function () {
  "use strict";

  var button = document.querySelector(".nav-toggle");
  var sidebar = button && button.closest(".sidebar");
  if (!sidebar) return;

  function setOpen(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    sidebar.classList.toggle("is-open", open);
  }

  function isOpen() {
    return button.getAttribute("aria-expanded") === "true";
  }

  button.addEventListener("click", function () {
    setOpen(!isOpen());
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !isOpen()) return;
    var inside = sidebar.contains(document.activeElement);
    setOpen(false);
    if (inside) button.focus();
  });

  document.addEventListener("click", function (event) {
    if (isOpen() && !sidebar.contains(event.target)) setOpen(false);
  });

  // Tabbing past the last link leaves the menu: fold it, so it does not cover the page.
  sidebar.addEventListener("focusout", function (event) {
    if (isOpen() && event.relatedTarget && !sidebar.contains(event.relatedTarget)) setOpen(false);
  });

  // Back on a wide screen the sidebar is always shown: forget a menu left open.
  var wide = window.matchMedia("(min-width: 821px)");
  function onWidth() {
    if (wide.matches) setOpen(false);
  }
  if (wide.addEventListener) wide.addEventListener("change", onWidth);
})();
