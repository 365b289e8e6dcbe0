/**
 * A small element builder: the page makes every element through it (no HTML strings).
 * It never parses HTML: text always becomes a text node.
 */
export type Child = Node | string | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Readonly<Record<string, string | boolean | undefined>> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c === undefined || c === false) continue;
    el.append(c);
  }
  return el;
}

/** A real button with an accessible name (`label`, when the visible text is not enough). */
export function button(
  text: string,
  onClick: () => void,
  opts: { label?: string; key?: string; kind?: string; disabled?: boolean } = {},
): HTMLButtonElement {
  const b = h(
    "button",
    {
      type: "button",
      "aria-label": opts.label,
      "data-key": opts.key,
      class: opts.kind,
      disabled: opts.disabled,
    },
    text,
  );
  b.addEventListener("click", onClick);
  return b;
}
