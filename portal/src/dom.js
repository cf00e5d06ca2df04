// Builds elements from data without innerHTML: Firestore content (titles, summaries, file text)
// is shown as text, never parsed as markup.

/** h("li", {class: "x", dataset: {id: "1"}, onclick: fn}, "text", child) */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** The element with this id, or a clear error naming it (the page's markup is the contract). */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing #${id} in the page`);
  return element;
}
