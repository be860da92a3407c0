/**
 * The `pattern:` of a sequence arg: a JavaScript regular expression with the `u`
 * flag that a caller-given value must match in full. One place decides how a
 * pattern compiles, so the linter and the chain builder cannot disagree.
 */

/**
 * The anchored matcher of `pattern` (`^(?:pattern)$`, flag `u`). Throws a
 * SyntaxError when the pattern does not compile. The pattern is compiled on its
 * own first, so that an unbalanced group cannot escape the anchors.
 */
export function argPatternRegExp(pattern: string): RegExp {
  new RegExp(pattern, 'u');
  return new RegExp(`^(?:${pattern})$`, 'u');
}

/** Why `pattern` does not compile, or undefined when it does. */
export function argPatternProblem(pattern: string): string | undefined {
  try {
    argPatternRegExp(pattern);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
