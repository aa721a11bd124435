// Clameur: small keyboard and form helpers; HTMX does the rest.
(function () {
  "use strict";

  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  // "/" focuses the query box, Escape leaves it and closes open menus.
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target)) {
      var box = document.getElementById("query-box") || document.getElementById("query-text");
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
    } else if (event.key === "Escape") {
      document.querySelectorAll("details.menu[open]").forEach(function (menu) {
        menu.removeAttribute("open");
        var summary = menu.querySelector("summary");
        if (summary && menu.contains(document.activeElement)) summary.focus();
      });
      if (document.activeElement && document.activeElement.id === "query-box") document.activeElement.blur();
    }
  });

  // Clicking elsewhere closes open menus.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // Selects marked data-autosubmit submit their form when changed (workspace switch).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.hasAttribute && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });

  // On narrow screens the filter panel starts folded, so the posts come first.
  document.querySelectorAll("details[data-collapse-below]").forEach(function (panel) {
    if (window.innerWidth < Number(panel.getAttribute("data-collapse-below"))) panel.removeAttribute("open");
  });

  // A correction re-renders its post's card: keyboard focus goes back to the control whose
  // menu was used (the new card has the same ids), not to the top of the page.
  var refocus = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var menu = event.target.closest && event.target.closest("details.pick");
    var summary = menu && menu.querySelector("summary[id]");
    if (summary) refocus = summary;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!refocus) return;
    var control = document.getElementById(refocus.id);
    if (!control || control === refocus) return;  // another request settled; not swapped yet
    refocus = null;
    control.focus();
  });

  // New posts fade their highlight after a while; the "N new posts" note too.
  document.addEventListener("htmx:afterSettle", function () {
    var news = document.getElementById("live-news");
    if (news && news.classList.contains("is-visible")) {
      clearTimeout(news._hide);
      news._hide = setTimeout(function () { news.classList.remove("is-visible"); }, 6000);
    }
  });
})();
