// The one DOM helper of the webview apps. Text goes in through textContent and attributes through
// setAttribute, never as markup: data from files stays data.

export interface ElProps {
  text?: string;
  /** the class attribute */
  cls?: string;
  title?: string;
  attrs?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElProps = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.cls) node.className = props.cls;
  if (props.title) node.title = props.title;
  for (const [key, value] of Object.entries(props.attrs ?? {})) node.setAttribute(key, value);
  if (props.text !== undefined) node.textContent = props.text;
  node.append(...children);
  return node;
}
