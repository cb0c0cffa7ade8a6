// The target-name template compiler: the one reading of 'host/{address}' shared by PeerRegistry
// (and so DgramGuard) and the CLI's `serve --target-name`. A template is checked whole when it is
// compiled: an unknown placeholder ('{adress}'), an unclosed one ('host/{address') or a stray '}'
// is refused with TargetNameTemplateError, naming the template and the position, so that a typo in
// a security principal is never registered as a literal name. A name without any brace is a fixed
// name. Braces have no escape: a name that needs one literally is given as a function.
import { PeerTargetNameError } from '../codec/errors.js';

/** A peer as a target-name policy sees it: parsed and canonical (PeerRegistry's RegistryPeer). */
export interface TemplatePeer {
  family: 'ipv4' | 'ipv6';
  address: string;
  port: number;
  scopeId: number;
}

/** The placeholders a template may hold, each replaced by the peer's field of the same name. */
export const TEMPLATE_PLACEHOLDERS = ['address', 'port', 'family', 'scopeId'] as const;
export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

const KNOWN = TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ');

/** What is wrong with a template. */
export type TemplateProblem = 'unknown-placeholder' | 'unclosed-placeholder' | 'stray-brace';

/**
 * A target-name template that cannot be compiled. A PeerTargetNameError (WSAEINVAL, field
 * 'targetName'), so whoever catches those catches this too; `problem` says what is wrong and
 * `position` where (a 0-based index into `template`: the '{' that opens the placeholder, or the
 * stray '}').
 */
export class TargetNameTemplateError extends PeerTargetNameError {
  readonly template: string;
  readonly position: number;
  readonly problem: TemplateProblem;
  /** The reason alone, without the template (the CLI prefixes it with its flag). */
  readonly detail: string;

  constructor(template: string, position: number, problem: TemplateProblem, detail: string) {
    super('WSAEINVAL', 'targetName', `template ${JSON.stringify(template)}: ${detail}`, { value: template, offset: position });
    this.name = 'TargetNameTemplateError';
    this.template = template;
    this.position = position;
    this.problem = problem;
    this.detail = detail;
  }
}

/** The template's parts: literal text and placeholders, in order. @throws TargetNameTemplateError */
function parse(template: string): { literals: string[]; fields: TemplatePlaceholder[] } {
  // literals[i] comes before fields[i]; literals has one more entry than fields.
  const literals: string[] = [];
  const fields: TemplatePlaceholder[] = [];
  let literal = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '}') {
      throw new TargetNameTemplateError(template, i, 'stray-brace', `a '}' at position ${i} closes no placeholder (known: ${KNOWN})`);
    }
    if (c !== '{') {
      literal += c;
      continue;
    }
    let end = i + 1;
    while (end < template.length && template[end] !== '}' && template[end] !== '{') end++;
    if (end === template.length || template[end] === '{') {
      throw new TargetNameTemplateError(template, i, 'unclosed-placeholder',
        `the placeholder at position ${i} (${JSON.stringify(template.slice(i, end))}) has no closing '}' (known: ${KNOWN})`);
    }
    const name = template.slice(i + 1, end);
    if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new TargetNameTemplateError(template, i, 'unknown-placeholder',
        `unknown placeholder {${name}} at position ${i} (known: ${KNOWN})`);
    }
    literals.push(literal);
    fields.push(name as TemplatePlaceholder);
    literal = '';
    i = end;
  }
  literals.push(literal);
  return { literals, fields };
}

/**
 * Compiles a target-name template (or a fixed name: no braces) into the function that names a
 * peer. @throws TargetNameTemplateError for an unknown or unbalanced placeholder.
 */
export function compileTargetNameTemplate(template: string): (peer: TemplatePeer) => string {
  const { literals, fields } = parse(template);
  if (fields.length === 0) return () => template;
  if (fields.length === 1) {
    const [before, after] = literals;
    const field = fields[0];
    return (peer) => before + peer[field] + after;
  }
  return (peer) => {
    let name = literals[0];
    for (let k = 0; k < fields.length; k++) name += peer[fields[k]] + literals[k + 1];
    return name;
  };
}
