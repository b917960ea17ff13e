// MathJax 2 configuration, read by the local copy in assets/mathjax (no CDN).
// Only formulas from arithmatex (Markdown pages) and notebook Markdown cells are typeset,
// so a "$" in code or prose elsewhere is left alone.
window.MathJax = {
  config: ["TeX-AMS-MML_HTMLorMML-full.js"],
  extensions: ["Safe.js"],
  tex2jax: {
    inlineMath: [["$", "$"], ["\\(", "\\)"]],
    displayMath: [["$$", "$$"], ["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
    ignoreClass: "md-container",
    processClass: "arithmatex|jp-MarkdownOutput",
  },
  // the bundled STIX web fonts only: no probing for locally installed TeX fonts
  "HTML-CSS": { availableFonts: [], preferredFont: null, webFont: "STIX-Web",
                imageFont: null },
  messageStyle: "none",
  menuSettings: { zoom: "None" },
};
