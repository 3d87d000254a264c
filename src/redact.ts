/**
 * Which recorded field a value comes from, so a redaction hook can treat fields differently.
 *
 * Captured only with `captureContent: true`:
 * - `gen_ai.input.messages`: a model call's request messages; also the corrective message of an
 *   eval-driven correction;
 * - `gen_ai.output.messages`: a model call's response; also the text a recovery gave the model
 *   (a corrective message, or what `onToolError` returned);
 * - `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`: a tool call's arguments and result.
 *
 * Recorded always, whatever `captureContent` says, and so always redacted:
 * - `error.message`: the message of every failed step (the span's status message, the run store,
 *   the dashboard), the reason of a breaker trip (its `agentwarden.breaker.trip` event), and the
 *   error detail a corrective message shows the model;
 * - `gen_ai.evaluation.explanation`: an evaluator's reason, on its eval span.
 */
export type ContentField =
  | "gen_ai.input.messages"
  | "gen_ai.output.messages"
  | "gen_ai.system_instructions"
  | "gen_ai.tool.definitions"
  | "gen_ai.tool.call.arguments"
  | "gen_ai.tool.call.result"
  | "error.message"
  | "gen_ai.evaluation.explanation"
  | "agentwarden.feedback.comment"
  | "agentwarden.feedback.correction";

/**
 * Runs on every recorded text from the agent (see `ContentField`) before it is stored on a step or
 * a span. Return the text to keep.
 */
export type Redactor = (text: string, field: ContentField) => string;

/**
 * Where a secret may start: after a character that is not part of a word, or right after a JSON
 * escape (`\n`, `\t`, `\"`, `\u001b`, ...). Captured content is serialised to JSON before it is
 * redacted, and a newline before a secret becomes the two characters `\n`: a `\b` there sees the
 * `n` and misses the secret. So no pattern depends on `\b` before it.
 */
const START = String.raw`(?:(?<![A-Za-z0-9_\\])|(?<=\\[bfnrt"\\/])|(?<=\\u[0-9A-Fa-f]{4}))`;

/** One kind of secret the default redactor masks. */
interface SecretPattern {
  readonly kind: string;
  readonly pattern: RegExp;
  readonly replacement: string;
  /** A substring every match contains: the pattern is skipped on text without it (a cheap test first). */
  readonly needs?: string;
  /**
   * A pattern every match also matches (the secret's body without the leading `START`
   * assertions, which keep the regex engine from skipping ahead): the pattern is skipped on text
   * it does not find. Non-global, so it keeps no state.
   */
  readonly test?: RegExp;
}

const re = (source: string, flags = "g") => new RegExp(source, flags);

/**
 * What may follow the keyword of a secret's key: `key` or a number (secretKey, password2), then
 * up to four `_`- or `-`-led parts (DB_PASSWORD_PROD, aws_secret_access_key, secret_key_base,
 * api_key_v2, password_root, private_key_pem) — any but the parts that say something about the
 * secret rather than name it (token_count, token_ids, input_token_details, password_required,
 * password_expiry_days, secret_version, token_type, token_endpoint): their values are not secrets,
 * and masking them would also break the JSON they are in. A part must start with its `_` or `-`,
 * so a run of letters splits one way only (no backtracking over where parts begin).
 */
const KEY_SUFFIX = String.raw`(?:key|\d{1,3})?(?:[_-](?!(?:counts?|ids?|index|indices|offsets?|details?|required|expir[a-z]*|versions?|types?|length|len|limits?|names?|urls?|uri|endpoints?|policy|usage|used|total|max|min|budget|costs?|rates?|estimates?|logprobs?|hint|label|field|prompt|reset|updated|created|changed|strength|format)(?![A-Za-z0-9]))[A-Za-z0-9]{1,20}){0,4}`;

/**
 * The default patterns, applied in this order (a block or a token is masked whole before a shorter
 * pattern could match a piece of it). Every repeat is bounded or runs over a character class that
 * cannot overlap what follows it, so each pattern runs in time linear in the text: no catastrophic
 * backtracking on adversarial input.
 */
const patterns: readonly SecretPattern[] = [
  {
    // PEM private keys and OpenPGP private key blocks (their armour headers and checksum line
    // included), whole: the body also when its lines were joined by "; " or escaped as `\n`
    // (once or more: a tool's JSON result serialised again in a message list has `\\n`).
    kind: "private key",
    pattern: re(
      String.raw`-----BEGIN[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s;:,.()]|-(?!----)|\\{1,8}[nrt])*(?:-----END[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?`,
    ),
    replacement: "[REDACTED_PRIVATE_KEY]",
    needs: "PRIVATE KEY",
  },
  {
    // user:password@ in URLs (postgres://, https://, amqp://, ...), and :password@ (Redis): the
    // credentials, host kept
    kind: "URL credentials",
    pattern: re(
      String.raw`(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30}://)[^\s/:@\\"']{0,256}:[^\s/@\\"']{1,256}@`,
    ),
    replacement: "$1[REDACTED_CREDENTIALS]@",
    needs: "://",
  },
  {
    // the token after "Bearer" (an Authorization header)
    kind: "bearer token",
    pattern: re(String.raw`${START}(Bearer(?:\s|\\[nrt]){1,8})[A-Za-z0-9._~+/=-]{16,}`, "gi"),
    replacement: "$1[REDACTED_TOKEN]",
    test: /bearer/i,
  },
  {
    // HTTP Basic credentials (base64 of user:password) after "Authorization:" (a header, or a
    // JSON key "authorization": "Basic ..."); "Basic" alone is an ordinary word
    kind: "basic credentials",
    pattern: re(
      String.raw`${START}(Authorization(?:\\{0,8}["'])?\s{0,8}[:=]\s{0,8}(?:\\{0,8}["'])?Basic(?:\s|\\[nrt]){1,8})[A-Za-z0-9+/]{4,}={0,2}`,
      "gi",
    ),
    replacement: "$1[REDACTED_TOKEN]",
    test: /authorization/i,
  },
  {
    // incoming-webhook URLs, whose path is the secret: Slack (hooks.slack.com/services/...,
    // /workflows/..., /triggers/...) and Discord (discord.com/api/webhooks/<id>/<token>)
    kind: "webhook URL",
    pattern: re(
      String.raw`(hooks\.slack\.com/(?:services|workflows|triggers)/|discord(?:app)?\.com/api/(?:v\d{1,2}/)?webhooks/)[A-Za-z0-9_/-]{8,512}`,
      "gi",
    ),
    replacement: "$1[REDACTED_TOKEN]",
    test: /hooks\.slack\.com|discord(?:app)?\.com\/api\//i,
  },
  {
    // JSON Web Tokens (header.payload.signature, each base64url; both JSON parts start "eyJ")
    kind: "JWT",
    // not right after a `-` either: inside a run of `-eyJ` every `eyJ` would be a start, each
    // scanning the rest of the run (quadratic)
    pattern: re(String.raw`${START}(?<!-)eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`),
    replacement: "[REDACTED_TOKEN]",
    needs: "eyJ",
  },
  {
    // API keys and tokens of the common providers: OpenAI and Anthropic (sk-, sk-proj-, sk-ant-),
    // AWS access key ids (AKIA, ASIA, ...), Stripe (sk_live_, rk_test_, whsec_), GitHub (ghp_,
    // gho_, ghu_, ghs_, ghr_, github_pat_), GitLab (glpat-), Slack (xoxb-, xoxp-, ...), Google
    // (AIza), npm (npm_), Hugging Face (hf_), SendGrid (SG.x.y)
    kind: "API key",
    pattern: re(
      `${START}(?:${[
        String.raw`sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}`,
        String.raw`(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}`,
        String.raw`(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}`,
        String.raw`whsec_[A-Za-z0-9]{24,}`,
        String.raw`gh[pousr]_[A-Za-z0-9]{30,}`,
        String.raw`github_pat_[A-Za-z0-9_]{30,}`,
        String.raw`glpat-[A-Za-z0-9_-]{20,}`,
        String.raw`xox[abeoprs]-[A-Za-z0-9-]{10,}`,
        String.raw`AIza[0-9A-Za-z_-]{35}`,
        String.raw`npm_[A-Za-z0-9]{36,}`,
        String.raw`hf_[A-Za-z0-9]{30,}`,
        String.raw`SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}`,
      ].join("|")})${String.raw`\b`}`,
    ),
    replacement: "[REDACTED_KEY]",
    test: /sk-|[sr]k_(?:live|test)_|A(?:KIA|SIA|BIA|CCA)|whsec_|gh[pousr]_|github_pat_|glpat-|xox[abeoprs]-|AIza|npm_|hf_|SG\./,
  },
  {
    // AWS secret access keys: exactly 40 characters of base64 with upper case, lower case and a
    // digit (a hex digest, lower case only, is left alone)
    kind: "AWS secret access key",
    pattern: re(
      String.raw`(?:(?<![A-Za-z0-9/+=\\])|(?<=\\[bfnrt"\\])|(?<=\\u[0-9A-Fa-f]{4}))(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])`,
    ),
    replacement: "[REDACTED_KEY]",
    test: /[A-Za-z0-9/+]{40}/,
  },
  {
    // the value of a password, secret, private or API key, or token given as key=value or
    // "key": "value" (snake, kebab or camel case, any parts around the keyword: db_password,
    // MY_APP_DB_PASSWORD, client-secret, clientSecret, aws_secret_access_key, password2); a quoted
    // value whole, to its closing quote (a passphrase has spaces), also when the quotes were
    // escaped by one or more serialisations (`\\\"`): a quote inside the value, escaped one level
    // deeper than the opening quote, does not end it
    kind: "password or secret assignment",
    pattern: re(
      // The match starts at the keyword; what is before it in the key (up to 40 letters, digits,
      // `_` and `-` from the key's start: MY_APP_DB_PASSWORD, stripeApiSecretKey) is only looked
      // behind at, so finding a key costs one keyword search, not a walk from every word; a longer
      // run before the keyword is refused at once (41 characters back), keeping adversarial text
      // (`token` repeated, a megabyte of `a_`) linear with a small constant.
      String.raw`(?=password|passwd|passphrase|passcode|pwd|secret|private[_-]?key|api[_-]?key|token)(?<![A-Za-z0-9_-]{41})(?<=(?:^|[^A-Za-z0-9_\\-]|\\[bfnrt"\\/]|\\u[0-9A-Fa-f]{4})[A-Za-z0-9_-]{0,40})((?:password|passwd|passphrase|passcode|pwd|secret|private[_-]?key|api[_-]?key|token)${KEY_SUFFIX}(?:\\{0,8}["'])?(?:\s|\\[nrt]){0,8}(?::=|=>|[:=])(?:\s|\\[nrt]){0,8}(?:[|>][-+]?(?:\s|\\[nrt]){1,8})?(?:[bBrRuU]?(\\{0,8})["'])?)(?:(?<=")(?:\[REDACTED_[A-Z_]{1,20}\]|[^"\\\r\n]|\\+(?=[^"\\\r\n])|(?!(?:\2\2\\\\)*\2")\\+"){1,4096}|(?<=')(?:\[REDACTED_[A-Z_]{1,20}\]|[^'\\\r\n]|\\+(?=[^'\\\r\n])|\\+'){1,4096}|(?<!["'])(?![{[]|(?:true|false|null)(?![A-Za-z0-9_]))(?:\[REDACTED_[A-Z_]{1,20}\]|[^\s"'\\,;&}\]]){1,4096})`,
      "gi",
    ),
    replacement: "$1[REDACTED_SECRET]",
    test: /password|passwd|passphrase|passcode|pwd|secret|private[_-]?key|api[_-]?key|token/i,
  },
  {
    // e-mail addresses (repeats bounded to RFC 5321's lengths: unbounded ones made a long run of
    // letters quadratic, seconds for 40 KB; now linear; and skipped where there is no "@"); never
    // starting inside a JSON escape
    kind: "e-mail address",
    pattern: re(String.raw`(?<!\\(?:u[0-9A-Fa-f]{0,3})?)[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}`),
    replacement: "[REDACTED_EMAIL]",
    needs: "@",
  },
  {
    // US social security numbers (area not 000, 666 or 9xx; group not 00; serial not 0000)
    kind: "US SSN",
    pattern: re(String.raw`${START}(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?!-?\d)`),
    replacement: "[REDACTED_SSN]",
    needs: "-",
  },
  {
    // IBANs: country, check digits, 11 to 30 letters and digits, optionally grouped by four
    kind: "IBAN",
    pattern: re(String.raw`${START}[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`),
    replacement: "[REDACTED_IBAN]",
    test: /[A-Z]{2}\d{2}/,
  },
  {
    // payment card numbers: 13 to 19 digits, optionally grouped by spaces or dashes
    kind: "card number",
    pattern: re(String.raw`${START}(?:\d[ -]?){12,18}\d\b`),
    replacement: "[REDACTED_NUMBER]",
    test: /\d[ -]?\d[ -]?\d[ -]?\d/,
  },
  {
    // phone numbers: +country and 8 to 14 digits, or the North American (415) 555-0132 shape
    kind: "phone number",
    pattern: re(
      String.raw`${START}(?:\+[1-9]\d{7,13}|(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]\d{4})(?!\d)`,
    ),
    replacement: "[REDACTED_PHONE]",
    test: /\d{3}/,
  },
];

/** The kinds of secret the default redactor masks, in the order it applies them. */
export const SECRET_KINDS: readonly string[] = patterns.map((p) => p.kind);

/**
 * The default redactor: masks private keys (PEM, OpenPGP), credentials in URLs, bearer tokens, HTTP
 * Basic credentials, webhook URLs (Slack, Discord), JWTs, API keys of
 * the common providers, AWS secret access keys, password and secret assignments, e-mail
 * addresses, US SSNs, IBANs, card numbers and phone numbers (`SECRET_KINDS`), in raw text and in
 * JSON alike. Extend it with `redactWith([...patterns])`.
 */
export const redactSecrets: Redactor = function redactSecrets(text) {
  let out = text;
  for (const { pattern, replacement, needs, test } of patterns) {
    if (needs !== undefined && !out.includes(needs)) continue;
    if (test !== undefined && !test.test(out)) continue;
    out = out.replace(pattern, replacement);
  }
  return out;
};

/**
 * @internal The default redaction with every pattern applied, none skipped by its cheap test: the
 * reference the tests hold `redactSecrets` to.
 */
export function redactSecretsUnfiltered(text: string): string {
  let out = text;
  for (const { pattern, replacement } of patterns) out = out.replace(pattern, replacement);
  return out;
}

/** Where the default redactor would mask a secret: `text.slice(start, end)` is the masked part. */
export interface SecretSpan {
  /** One of `SECRET_KINDS`. */
  kind: string;
  start: number;
  end: number;
  /**
   * The kinds of secrets found first that this span took in (an API key inside a quoted
   * passphrase: the passphrase's span, containing `["API key"]`); absent when none.
   */
  contains?: string[];
}

/**
 * The spans `redactSecrets` would mask, with their kinds, in text order: each pattern runs, as in
 * `redactSecrets`, on the text the earlier patterns left (their matches replaced by placeholders),
 * so a span is exactly what the redactor masks: a quoted passphrase holding an API key is one
 * span (the key first, then the value around its placeholder); `pw@db.internal` is no e-mail
 * address once `admin:pw` is masked. The kept part of a match (the `Bearer ` prefix, the key of
 * `password=...`, the scheme and `@` of URL credentials) is outside the span. Linear in the text
 * and the spans: each pattern's matches are mapped back in one pass.
 */
export function findSecrets(text: string): SecretSpan[] {
  // The text as the earlier patterns left it, in pieces: each a slice of the original, or a
  // placeholder standing for a span of it.
  let pieces: Piece[] = [{ text, start: 0, end: text.length, span: undefined }];
  let current = text;
  for (const { kind, pattern, replacement, needs, test } of patterns) {
    if (needs !== undefined && !current.includes(needs)) continue;
    if (test !== undefined && !test.test(current)) continue;
    const placeholder = replacement.replace(/^\$1/, "").replace(/@$/, "");
    const rx = new RegExp(pattern.source, pattern.flags);
    const cuts: Array<[number, number]> = [];
    for (let m = rx.exec(current); m !== null; m = rx.exec(current)) {
      if (m[0].length === 0) {
        rx.lastIndex++;
        continue;
      }
      let start = m.index;
      let end = m.index + m[0].length;
      if (replacement.startsWith("$1") && m[1] !== undefined) start += m[1].length;
      if (replacement.endsWith("@") && m[0].endsWith("@")) end -= 1;
      if (end > start) cuts.push([start, end]);
    }
    if (cuts.length === 0) continue;
    pieces = cutPieces(pieces, cuts, kind, placeholder);
    current = pieces.map((p) => p.text).join("");
  }
  return pieces.flatMap((p) => (p.span ? [p.span] : []));
}

interface Piece {
  /** The piece's text now: a slice of the original, or a placeholder. */
  text: string;
  /** Where it is in the original text. */
  start: number;
  end: number;
  /** For a placeholder: the span it masks. */
  span: SecretSpan | undefined;
}

/**
 * Replaces the ranges `cuts` (of the text the pieces make, in order, not overlapping) with one
 * placeholder each: a span from the original start of its first piece to the original end of its
 * last, taking in whole any placeholder it touches.
 */
function cutPieces(pieces: Piece[], cuts: Array<[number, number]>, kind: string, placeholder: string): Piece[] {
  const out: Piece[] = [];
  let at = 0; // where the current piece starts in the text the pieces make
  let c = 0;
  let open: SecretSpan | undefined; // the span of the cut being made
  for (const piece of pieces) {
    const from = at;
    const to = at + piece.text.length;
    at = to;
    let pos = from; // what of this piece is handled
    while (pos < to) {
      const cut = cuts[c];
      if (open === undefined) {
        if (cut === undefined || cut[0] >= to) {
          out.push(pos === from ? piece : slice(piece, pos - from, to - from));
          pos = to;
          continue;
        }
        if (cut[0] > pos) out.push(slice(piece, pos - from, cut[0] - from));
        const startsAt = piece.span ? piece.start : piece.start + Math.max(0, cut[0] - from);
        open = { kind, start: startsAt, end: startsAt };
        pos = Math.max(pos, cut[0]);
      }
      if (piece.span) absorb(open, piece.span);
      const cut2 = cuts[c] as [number, number];
      if (cut2[1] <= to) {
        // The cut ends in this piece.
        open.end = piece.span ? piece.end : piece.start + (cut2[1] - from);
        out.push({ text: placeholder, start: open.start, end: open.end, span: open });
        open = undefined;
        c++;
        // A placeholder is taken whole: the rest of it is part of this cut.
        pos = piece.span ? to : cut2[1];
      } else {
        open.end = piece.end;
        pos = to;
      }
    }
  }
  if (open !== undefined) out.push({ text: placeholder, start: open.start, end: open.end, span: open });
  return out;
}

/** Records in `into` the kinds of a span (a placeholder) it takes in. */
function absorb(into: SecretSpan, taken: SecretSpan): void {
  const kinds = [taken.kind, ...(taken.contains ?? [])];
  into.contains = into.contains ? [...new Set([...into.contains, ...kinds])] : kinds;
}

/** Part of an original slice (a placeholder is never cut). */
function slice(piece: Piece, from: number, to: number): Piece {
  return { text: piece.text.slice(from, to), start: piece.start + from, end: piece.start + to, span: undefined };
}

/** A redactor that applies `redactSecrets` and then the given patterns (each match replaced). */
export function redactWith(extra: ReadonlyArray<RegExp>, replacement = "[REDACTED]"): Redactor {
  return function redactWithPatterns(text, field) {
    let out = redactSecrets(text, field);
    for (const pattern of extra) {
      const global = pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
      out = out.replace(global, replacement);
    }
    return out;
  };
}
