import { Check, accept, refuse } from './check';

const LABEL = /^[a-z0-9_-]+$/;
const MAX_NAME = 253;
const MAX_LABEL = 63;

/**
 * A DNS name as meshdns stores it: lowercased, without the trailing dot. Labels are 1-63
 * characters of letters, digits, hyphen and underscore (underscore for SRV-style names and
 * real-world hosts files), the whole name at most 253 characters.
 */
export function normalizeDnsName(text: string): Check<string> {
  let name = text.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '') return refuse('empty name');
  if (name.length > MAX_NAME) return refuse(`name is ${name.length} characters long, at most ${MAX_NAME} allowed`);
  for (const label of name.split('.')) {
    if (label === '') return refuse(`name ${JSON.stringify(text)} has an empty label`);
    if (label.length > MAX_LABEL) {
      return refuse(`label ${JSON.stringify(label.slice(0, 20) + '...')} is ${label.length} characters long, at most ${MAX_LABEL} allowed`);
    }
    if (!LABEL.test(label)) {
      return refuse(`name ${JSON.stringify(text)} may only contain letters, digits, "-", "_" and dots`);
    }
  }
  return accept(name);
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes namespace name (an RFC 1123 label): lowercase, digits, inner hyphens, 1-63. */
export function isNamespaceName(text: string): boolean {
  return text.length <= MAX_LABEL && NAMESPACE.test(text);
}
