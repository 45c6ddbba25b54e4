/**
 * Text made safe inside HTML or XML (elements and quoted attributes): the five characters that
 * could end or open markup become numeric character references.
 */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
