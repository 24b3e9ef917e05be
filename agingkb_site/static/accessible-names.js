// Names for the controls and scroll boxes that Datasette's markup leaves
// unnamed: the table filter's selects and value box, the home page's search
// box, and any box that scrolls sideways (so a keyboard can reach and scroll it).
(function () {
  var names = [
    ["select[name^=_filter_column]", "Filter: column"],
    ["select[name^=_filter_op]", "Filter: operation"],
    ["input.filter-value", "Filter: value"],
    ["select#sort_by", "Sort by"],
    ["input#search-all-q", "Search all tables"]
  ];
  function label() {
    names.forEach(function (pair) {
      document.querySelectorAll(pair[0]).forEach(function (el) {
        if (!el.labels || !el.labels.length) el.setAttribute("aria-label", pair[1]);
      });
    });
    var used = {};
    document.querySelectorAll(".table-wrapper, .scroll-box").forEach(function (box) {
      var heading = box.previousElementSibling;
      var name = box.getAttribute("data-label") || (heading && /^H[1-6]$/.test(heading.tagName) ? heading.textContent.trim() : "Table");
      used[name] = (used[name] || 0) + 1;  // each region's name is unique on its page
      if (box.hasAttribute("tabindex")) return;
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", name + (used[name] > 1 ? " " + used[name] : "") + " (scrolls sideways)");
    });
  }
  label();
})();
