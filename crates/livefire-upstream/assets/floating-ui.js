// Local stand-in for the three functions of `@floating-ui/dom` that upstream's `PortalTooltip`
// hook imports from a CDN (support/portal.ex): the floating element is placed above its
// reference (`placement: "top"`, plus the `offset` middleware's distance), once; there is no
// auto-update on scroll or resize.
export function offset(distance) {
  return { name: "offset", distance };
}

export function computePosition(reference, floating, options = {}) {
  const distance = (options.middleware || [])
    .filter((m) => m && m.name === "offset")
    .reduce((sum, m) => sum + (m.distance || 0), 0);
  const ref = reference.getBoundingClientRect();
  const parent = floating.offsetParent
    ? floating.offsetParent.getBoundingClientRect()
    : { left: 0, top: 0 };
  const x = ref.left - parent.left + (ref.width - floating.offsetWidth) / 2;
  const y = ref.top - parent.top - floating.offsetHeight - distance;
  return Promise.resolve({ x, y, placement: options.placement || "bottom" });
}

export function autoUpdate(_reference, _floating, update) {
  update();
  return () => {};
}
