// The one Markdown parser: CommonMark + GitHub Flavored Markdown (tables, autolinks, strikethrough, task lists,
// footnotes) as micromark and mdast implement them. Everything that must agree with what GitHub renders — what a
// command is, what a human sees of an issue, whether a rendered body still holds only the App's own HTML — asks this
// function, never a regular expression over the source.
import type { Nodes, Root } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';

export function parseMarkdown(source: string): Root {
  return fromMarkdown(source, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
}

/** The text a node renders as: text and code values, line breaks as newlines, nothing of HTML or definitions. */
export function renderedText(node: Nodes): string {
  switch (node.type) {
    case 'text':
    case 'inlineCode':
    case 'code':
      return node.value;
    case 'break':
      return '\n';
    case 'html':
    case 'definition':
    case 'footnoteDefinition':
    case 'image':
    case 'imageReference':
      return '';
    default:
      return 'children' in node ? node.children.map((c: Nodes) => renderedText(c)).join('') : '';
  }
}
