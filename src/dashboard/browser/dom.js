/** The page's element with this id: the page always renders it, so it is never missing. */
export const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** Counts as the reader's locale writes them. */
export const number = new Intl.NumberFormat();

/**
 * A new element. Text only ever reaches the DOM as `textContent`: event data is attacker-controlled.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
