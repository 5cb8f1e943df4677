import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * Turns a tool result into text: text blocks as they are, embedded text resources by their
 * text, binary content as a short placeholder; structured content when there is no text.
 */
export function renderToolResult(result: CallToolResult): string {
  const parts: string[] = [];
  for (const block of result.content) {
    switch (block.type) {
      case 'text':
        parts.push(block.text);
        break;
      case 'image':
      case 'audio':
        parts.push(
          `[${block.type} ${block.mimeType}, ${Math.floor((block.data.length * 3) / 4)} bytes omitted]`,
        );
        break;
      case 'resource':
        parts.push(
          'text' in block.resource ? block.resource.text : `[binary resource ${block.resource.uri} omitted]`,
        );
        break;
      case 'resource_link':
        parts.push(`[resource ${block.uri}${block.name ? ` (${block.name})` : ''}]`);
        break;
    }
  }
  if (parts.length === 0 && result.structuredContent !== undefined) {
    parts.push(JSON.stringify(result.structuredContent, null, 2));
  }
  return parts.join('\n');
}
