(function () {
  // Fold the long list of column descriptions away and show each one as
  // its column header's tooltip, so the rows and facets are in view.
  var list = document.querySelector("dl.column-descriptions");
  if (!list) return;
  var box = document.createElement("details");
  box.className = "column-descriptions-box";
  var summary = document.createElement("summary");
  summary.textContent = "What each column holds (" + list.querySelectorAll("dt").length + " columns)";
  box.appendChild(summary);
  list.parentNode.insertBefore(box, list);
  box.appendChild(list);
  var described = {};
  list.querySelectorAll("dt").forEach(function (term) {
    described[term.textContent.trim()] = term.nextElementSibling ? term.nextElementSibling.textContent.trim() : "";
  });
  document.querySelectorAll("th[data-column]").forEach(function (header) {
    var text = described[header.getAttribute("data-column")];
    if (text) header.title = text;
  });
})();
