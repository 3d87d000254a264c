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
  | "mcp.resource.uri"
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
const KEY_SUFFIX = String.raw`(?:[kK]ey|KEY|\d{1,3})?(?:[_-](?!(?:counts?|ids?|index|indices|offsets?|details?|required|expir[a-z]*|versions?|types?|length|len|limits?|names?|urls?|uri|endpoints?|policy|usage|used|total|max|min|budget|costs?|rates?|estimates?|logprobs?|hint|label|field|prompt|reset|updated|created|changed|strength|format)(?![A-Za-z0-9]))[A-Za-z0-9]{1,20}){0,4}`;

/** The keywords that make a key name a secret (password, secret, api_key, token, ...). */
const KEYWORDS = "password|passwd|passphrase|passcode|pwd|secret|private[_-]?key|api[_-]?key|token";

/** A cheap test for a secret keyword: every pattern built on `KEYWORDS` is skipped on text without one. */
const KEYWORD_TEST = new RegExp(KEYWORDS, "i");

/** A pattern's letters in either case, one by one: what the `i` flag does, for a case-sensitive pattern. */
const anyCase = (source: string) => source.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`);

/**
 * A tokenizer's special tokens (`eos_token`, `--pad-token '<pad>'`, `mask_token`): named `token`,
 * no secret. Put where a keyword starts.
 */
const NOT_SPECIAL_TOKEN = "(?!(?<=(?<![A-Za-z0-9])(?:eos|pad|bos|unk|sep|cls|mask)[_-])token(?![A-Za-z0-9]))";

/** A number, as JSON writes it too (`12`, `-0.5`, `1e-7`, `1e+21`). */
const NUMBER = String.raw`-?\d{1,20}(?:\.\d{1,20})?(?:[eE][-+]?\d{1,3})?`;

/** A placeholder an earlier pattern left, taken whole (a value never ends inside one). */
const PLACEHOLDER = String.raw`\[REDACTED_[A-Z_]{1,20}\]`;

/** Whitespace, raw or escaped in JSON (`\n`, `\t`), up to `n` of it. */
const ws = (n: number) => String.raw`(?:\s|\\[nrt]){0,${n}}`;

/** Whitespace, raw or escaped by one or more serialisations (`\n`, `\\n`), up to `n` of it. */
const wsDeep = (n: number) => String.raw`(?:\s|\\{1,8}[nrt]){0,${n}}`;

/**
 * Not a quote that closes a JSON string rather than opening a value: one followed by `,`, `:`,
 * `}`, `]` or the text's end. A string that ends in a key and its separator (`"…&pass="`,
 * `"Pass: "`, `"--password "`, `"if token == "`) is not followed by its value: taking its closing
 * quote for the value's opening one would mask the JSON that follows and break it.
 */
const NOT_CLOSING = String.raw`(?!${ws(8)}(?:[,:}\]]|$))`;

/**
 * A value that looks like a secret rather than a word (`yes`, `Hello`, `Submit`, `[DONE]`): eight
 * characters or more without a space, or letters and digits mixed. `QUOTED_SECRET_LIKE` right after
 * a value's opening quote (to its closing one); `SECRET_LIKE` there or where an unquoted value
 * starts (to its end). Their scans stop where the value does.
 */
const QUOTED_SECRET_LIKE = String.raw`(?:[^\s"'\\]{8,4096}(?=\\{0,8}["'])|(?=[^"'\\\r\n]{0,4096}?\d)[^"'\\\r\n]{0,4096}?[A-Za-z])`;
const SECRET_LIKE = String.raw`(?=(?<=["'])${QUOTED_SECRET_LIKE}|(?<!["'])(?:[^\s"'\\,;&}\]]{8,4096}(?![^\s"'\\,;&}\]])|(?=[^\s"'\\,;&}\]]{0,4096}?\d)[^\s"'\\,;&}\]]{0,4096}?[A-Za-z]))`;

/**
 * `==`, `===`, `!=` or `!==` before a quoted literal that looks like a secret (a comparison with a
 * secret shows it as well as an assignment does; `token === "[DONE]"`, `token == " "` in a parser
 * are left), but not before a type's name (`typeof x.token === "string"`), nor before a variable or
 * a number (`pass === 2`).
 */
const COMPARE = String.raw`[=!]==?(?!=)(?=${ws(8)}[bBrRuU]?\\{0,8}["']${QUOTED_SECRET_LIKE})(?!${ws(8)}\\{0,8}["'](?:string|boolean|number|bigint|undefined|object|function|symbol)\\{0,8}["'])`;

/**
 * After the separator: a YAML `>-`/`|` block, then the value's opening quote (Python's `b'…'`, `u'…'`
 * too), not one that closes a JSON string (`NOT_CLOSING`).
 */
const VALUE_OPEN = String.raw`${ws(8)}(?:[|>][-+]?(?:\s|\\[nrt]){1,8})?(?:[bBrRuU]?(\\{0,8})["']${NOT_CLOSING})?`;

/**
 * What joins a key to its value: the key's closing quote (and `]` after it before a quoted value:
 * `os.environ["API_KEY"] = "…"`; not before a number, `SyntaxKind["OpenBraceToken"] = 18`, a
 * compiled enum, nor a variable, `headers["x-api-key"] = apiKey`), `=`, `:`, `:=`, `=>` or a
 * comparison (`COMPARE`; a lone `=` or `:` not followed by another `=`), a YAML `>-`/`|` block, and
 * the value's opening quote, whose escaping backslashes (a quote escaped by one or more
 * serialisations) are the one capturing group.
 */
const ASSIGN = String.raw`(?:\\{0,8}["'](?:\](?=${ws(8)}[=!]={0,2}${ws(8)}[bBrRuU]?\\{0,8}["']))?)?${ws(8)}(?::=|=>|${COMPARE}|[:=](?!=))${VALUE_OPEN}`;

/**
 * A secret value after its key: a quoted value whole, to its closing quote (a passphrase has
 * spaces), also when the quotes were escaped by one or more serialisations (`\\\"`): a quote
 * inside the value, escaped one level deeper than the opening quote (the backslashes captured by
 * group `group`), does not end it; unquoted, to a space, a quote, a backslash or `,;&}]` (so a
 * JSON string or object it sits in stays whole). `true`, `false`, `null`, `None`, `undefined`
 * (`literals`), an object or an array are no secret. A placeholder an earlier pattern left is taken in.
 */
const secretValue = (group: number, literals = "(?:true|false|null|none|undefined)") => {
  const q = `\\${group}`; // the backreference to the opening quote's backslashes
  return String.raw`(?:(?<=")(?:\[REDACTED_[A-Z_]{1,20}\]|[^"\\\r\n]|\\+(?=[^"\\\r\n])|(?!(?:${q}${q}\\\\)*${q}")\\+"){1,4096}|(?<=')(?:\[REDACTED_[A-Z_]{1,20}\]|[^'\\\r\n]|\\+(?=[^'\\\r\n])|\\+'){1,4096}|(?<!["'])(?![{[]|${literals}(?![A-Za-z0-9_]))(?:\[REDACTED_[A-Z_]{1,20}\]|[^\s"'\\,;&}\]]){1,4096})`;
};

/**
 * What a word may follow: a character that is not part of one, the text's start, or a JSON escape
 * (see `START`). Looked behind at from the word's first characters (`(?<=${BEFORE_WORD}name)`), so
 * that a pattern starts with a literal, which the regex engine finds fast.
 */
const BEFORE_WORD = String.raw`(?:^|[^-A-Za-z0-9_\\]|\\[bfnrt"\\/]|\\u[0-9A-Fa-f]{4})`;

/**
 * `pwd` naming a directory, not a password: the shell's own `PWD=/home/app` and `OLDPWD=…` (in an
 * environment list too, `"PWD=/app"`), docker's `-v $PWD:/app`. Only that whole key, not one of
 * which it is a part (`MYSQL_PWD`), nor a quoted key (`{"pwd": "/…"}`), nor a connection string's
 * (`UID=sa;PWD=/…;`: after `;`, or ended by one); `=` right after it (`:` after `$PWD`), then a
 * path (`/`, `~`). Any case: the pattern it sits in is case-insensitive.
 */
const PWD_IS_A_PATH = String.raw`(?!(?<=(?:^|[\s"'$\`(]|\\[nrt"])(?:old)?)pwd(?:=|(?<=\$(?:old)?pwd):)(?:\\{0,8}["'])?[/~][^\s"'\\,;&}\]$\`)]{0,4096}(?![^\s"'\\,;&}\]$\`)]|;))`;

/** A run of a value's characters unquoted, in which a placeholder is one. */
const UNQUOTED = String.raw`(?:${PLACEHOLDER}|[^\s"'\\,;&}\]])`;

/**
 * A quoted `pass` value that looks like a password, not a verdict (`"yes"`, `"partial"`): six
 * characters or more, no space, letters and a digit.
 */
const PASS_LIKE = String.raw`(?=[^\s"'\\]{6,4096}\\{0,8}["'])(?=[^\s"'\\]{0,4096}?\d)(?=[^\s"'\\]{0,4096}?[A-Za-z])`;

/** `true`, `false`, `null`, `None`, `undefined`, for a case-sensitive pattern. */
const LITERALS = "(?:[Tt]rue|TRUE|[Ff]alse|FALSE|[Nn]ull|NULL|[Nn]one|NONE|undefined)";

/**
 * A command-line flag named like a secret's key (`--password`, `--api-key`, `-token`, `--db-password`),
 * after its first `-` (a pattern starts at that `-` and looks behind it, so that the regex engine
 * finds where to start fast), in a case-sensitive pattern: not a switch that takes no secret
 * (`--no-password`, `--ask-password`, `--password-stdin`, `--password-file`), nor a tokenizer's
 * special token (`--eos-token`).
 */
const FLAG_AFTER_DASH = `-?(?!(?:no|ask|prompt|skip|show|print|use|with|without|enable|disable|require|allow)[_-])(?!(?:eos|pad|bos|unk|sep|cls|mask)[_-]token(?![A-Za-z0-9]))(?:[A-Za-z0-9]{1,20}[_-]){0,3}[A-Za-z0-9]{0,20}?(?:${anyCase(KEYWORDS)})${KEY_SUFFIX}(?<![_-](?:stdin|file|path|env|cmd|command|helper))`;

/**
 * What follows a flag unquoted that is no secret: a metavar of help text (an all-capitals word,
 * `TEXT`, `API_KEY`; a word in brackets, `<token>`; a type, `string`, `int`), a word of prose (`the
 * --api-key flag`, `--token or …`), a table's `|`.
 */
const NOT_A_FLAG_VALUE = String.raw`(?!(?<!["'])(?:[A-Z][A-Z_-]{0,40}|<[^\s<>]{1,40}>|\||(?:string|strings|str|text|int|integer|num|number|bool|boolean|float|duration|value|flag|option|argument|arg|parameter|param|or|and|to|is|the|a|an|for|in|of|on|if|as|at|with|instead|from|here|env|variable|you|your|first))(?![^\s"'\\,;&}\]).:!?]))`;

/**
 * A unit of curl's command line, scanned from `curl` to its `-u`: a character on its line (not
 * `;`, `|`, `&&`, nor the next `curl`, so that a run of them stays linear), or a line continued by
 * `\` at its end, raw or escaped in JSON once or more (`\\\n`). A run of backslashes is taken
 * whole, one way only.
 */
const CURL_UNIT = String.raw`(?:(?!curl(?![A-Za-z0-9_-])|&&)[^\n\r;|\\]|\\\r?\n|\\{3,12}(?:r\\{1,12})?n|\\{1,12}(?![\\nr\n\r]))`;

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
    // the credentials of other Authorization schemes (Django REST's and GitHub's `Token`, Okta's
    // `SSWS`, Discord's `Bot`, `ApiKey`, `Key`/`key=`, `OAuth`, Splunk's, Opsgenie's `GenieKey`):
    // named schemes only, so that "Authorization: required" is left; and a credential, not a word
    // (`Authorization: Token authentication is enabled`): a digit in it, or 20 characters or more
    kind: "bearer token",
    pattern: re(
      String.raw`${START}(Authorization(?:\\{0,8}["'])?\s{0,8}[:=]\s{0,8}(?:\\{0,8}["'])?(?:Token|Bot|SSWS|Api-?Key|Key|OAuth|Splunk|GenieKey)(?:(?:\s|\\[nrt]){1,8}|=))(?=[A-Za-z0-9._~+/=-]{0,4096}?\d|[A-Za-z0-9._~+/=-]{20})[A-Za-z0-9._~+/=-]{8,}`,
      "gi",
    ),
    replacement: "$1[REDACTED_TOKEN]",
    test: /authorization/i,
  },
  {
    // curl's user:password (`-u`, `-U`, `--user`, `--proxy-user`: HTTP Basic, in clear), whole,
    // also a user alone before its `:` (an API key as the user, no password); only in a curl
    // command (up to 512 characters after `curl`, on its line or lines continued by `\`, before
    // `;`, `|` or `&&`), as `-u` elsewhere is a user and a group (`docker run -u 1000:1000`, `sudo
    // -u alice`); and only where curl is the command: at a line's start (a list item's too), after
    // a prompt's `$ `, `;`, `&`, `|`, `(`, `!`, a backtick or a quote (a JSON string's start),
    // `sudo`, `RUN`, `run:` (not "install curl, then run docker -u …"). The scan from `curl` stops
    // at the next `curl`, so a run of them stays linear.
    kind: "basic credentials",
    pattern: re(
      String.raw`(curl(?<=(?:(?:^|[\n\r;|&\`(!"']|\\[nrt"])[ \t]{0,8}|(?:\$|(?<![A-Za-z0-9_-])(?:sudo|RUN|run:)|(?:^|[\n\r"']|\\[nr"])[ \t]{0,8}(?:[-*>]|\d{1,3}[.)]))[ \t]{1,8})curl)(?=[ \t])${CURL_UNIT}{0,512}?[ \t](?:-[uU][ \t]{0,8}|--(?:proxy-)?user(?:=|[ \t]{1,8}))(?:(\\{0,8})["'])?)(?:[^\s:"'\\]{1,128}:(?:${PLACEHOLDER}|[^\s"'\\]){0,256}|:(?:${PLACEHOLDER}|[^\s"'\\]){1,256})`,
    ),
    replacement: "$1[REDACTED_CREDENTIALS]",
    needs: "curl",
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
      String.raw`(?=${KEYWORDS})${PWD_IS_A_PATH}${NOT_SPECIAL_TOKEN}(?<![A-Za-z0-9_-]{41})(?<=(?:^|[^A-Za-z0-9_\\-]|\\[bfnrt"\\/]|\\u[0-9A-Fa-f]{4})[A-Za-z0-9_-]{0,40})((?:${KEYWORDS})${KEY_SUFFIX}${ASSIGN})${secretValue(2)}`,
      "gi",
    ),
    replacement: "$1[REDACTED_SECRET]",
    test: KEYWORD_TEST,
  },
  {
    // the value of a command-line flag named like a secret's key (`FLAG_AFTER_DASH`), after a space (after `=`
    // it is an assignment, above): `--password hunter2`, `--api-key …`, `-token …` (Go's flags),
    // `--db-password '…'`, `--client-secret "…"`; not a value that is the next flag, nor a metavar or
    // a word of prose (`NOT_A_FLAG_VALUE`). `-p` is left: it is a port as often as a password.
    // Case-sensitive, for the metavars' capitals (the keyword in any case).
    kind: "password or secret assignment",
    pattern: re(
      String.raw`(-(?<=${BEFORE_WORD}-)${FLAG_AFTER_DASH}(?:[ \t]|\\t){1,8}(?:(\\{0,8})["']${NOT_CLOSING})?)(?!-)${NOT_A_FLAG_VALUE}${secretValue(2, LITERALS)}`,
    ),
    replacement: "$1[REDACTED_SECRET]",
    needs: "-",
    test: KEYWORD_TEST,
  },
  {
    // the same flag and its value as items of an argument list: `["mysql", "--password", "…"]`
    // (the flag right after `[` or `,`, so that `{"flag": "--token", "value": …}` is left)
    kind: "password or secret assignment",
    pattern: re(
      String.raw`(-(?<=[[,]${ws(8)}\\{0,8}["']-)${FLAG_AFTER_DASH}\\{0,8}["']${ws(8)},${ws(8)}(\\{0,8})["']${NOT_CLOSING})(?!-)${secretValue(2, LITERALS)}`,
    ),
    replacement: "$1[REDACTED_SECRET]",
    needs: "-",
    test: KEYWORD_TEST,
  },
  {
    // `pass` as a query parameter (`?user=a&pass=…`) and OpenSSL's `-pass pass:…` (`-passin`,
    // `-passout`): there `pass` is a password. Elsewhere it is as often a verdict (`PASS:
    // tests/x`, `const pass = …`, `{"pass": "yes"}`, `firstPass:`), so only the shapes below.
    kind: "password or secret assignment",
    pattern: re(
      String.raw`(pass(?:(?<=[?&]pass)=|(?<=(?<![A-Za-z0-9_-])-pass(?:in|out)?[ \t]{1,8}pass):))(?:${PLACEHOLDER}|[^\s"'\\&#<>;,]){1,4096}`,
    ),
    replacement: "$1[REDACTED_SECRET]",
    test: /pass[=:]/,
  },
  {
    // an environment variable named `*_PASS` (`SMTP_PASS=…`, `"DB_PASS": "…"`, `DB_PASS: …`), in
    // capitals, with a part before `_PASS`; `=` right after it, or spaced before a quoted value
    // (`x.STATUS_PASS = other.STATUS_PASS` is code); not a number (`TEST_PASS=1`, a count) nor a
    // variable's value (`$X`)
    kind: "password or secret assignment",
    pattern: re(
      String.raw`(_PASS(?<=(?:^|[^A-Za-z0-9_\\]|\\[bfnrt"\\/]|\\u[0-9A-Fa-f]{4})[A-Z][A-Z0-9_]{0,40}_PASS)(?:\\{0,8}["'])?(?:=|${ws(8)}(?::|=(?=${ws(8)}["'])))(?!=)${VALUE_OPEN})(?!\$|(?<!["'])${NUMBER}(?![^\s"'\\,;&}\]]))${secretValue(2, LITERALS)}`,
    ),
    replacement: "$1[REDACTED_SECRET]",
    needs: "_PASS",
  },
  {
    // `pass` as a key (`pass: '…'`, `"pass": "…"`, `'pass' => '…'`, `$pass = "…"`), the whole key,
    // not a member (`r.pass`) nor part of a name (`firstPass`, `pass_rate`), before a quoted value
    // that looks like a password (`PASS_LIKE`: `{"pass": "yes"}` is a verdict)
    kind: "password or secret assignment",
    pattern: re(
      String.raw`((?:pass|Pass|PASS)(?<=(?:^|[^A-Za-z0-9_.\\]|\\[bfnrt"\\/]|\\u[0-9A-Fa-f]{4})(?:pass|Pass|PASS))(?:\\{0,8}["'])?${ws(8)}(?::=|=>|[:=](?!=))${ws(8)}[bBrRuU]?(\\{0,8})["']${NOT_CLOSING})${PASS_LIKE}${secretValue(2)}`,
    ),
    replacement: "$1[REDACTED_SECRET]",
    test: /pass/i,
  },
  {
    // a YAML line's `pass:` (lower case, indented or a list item's) before an unquoted value that
    // looks like a password: six characters or more, letters and a digit (`pass: majority` is left)
    kind: "password or secret assignment",
    pattern: re(
      String.raw`(pass:(?<=(?:^|[\n\r]|\\n)[ \t]{0,40}(?:-[ \t]{1,8})?pass:)[ \t]{1,8})(?=[^\s"'\\,;&}\]]{6,4096}(?![^\s"'\\,;&}\]]))(?=[^\s"'\\,;&}\]]{0,4096}?\d)(?=[^\s"'\\,;&}\]]{0,4096}?[A-Za-z])${UNQUOTED}{1,4096}`,
    ),
    replacement: "$1[REDACTED_SECRET]",
    needs: "pass:",
  },
  {
    // the text of an XML element named like a secret's key (`<password>`, `<apiKey>`,
    // `<db_password>`, `<ns:SessionToken attr="…">`), to the next tag, which must close it; a
    // CDATA section whole (which stops at the next `<![CDATA[`, so that a run of unclosed ones
    // stays linear). Not a name that says something about the secret (`<passwordPolicy>`,
    // `<password_hint>`), as for keys; a dotted name too (`<db.password>`, Maven's). The text
    // stops at a `"`, escaped or not: a JSON string the element sits in stays whole, and so does
    // the JSON around it when the closing tag is in another string. Only text that looks like a secret
    // (eight characters or more without a space, or letters and digits mixed: `<token>yes</token>`
    // is left).
    kind: "password or secret assignment",
    pattern: re(
      String.raw`(<(?:[A-Za-z_][A-Za-z0-9_.-]{0,30}:)?[A-Za-z0-9_.-]{0,40}?${NOT_SPECIAL_TOKEN}(?:${KEYWORDS})${KEY_SUFFIX}(?:\s[^<>]{0,256})?(?<!\/)>)(?:<!\[CDATA\[(?:[^\]<]|\](?!\]>)|<(?!!\[CDATA\[)){1,4096}\]\]>|(?=(?:[^\s<"\\]|\\[^<"nrt\s]){8,4096}<\/|(?=(?:[^<"\\]|\\[^<"]){0,4096}?\d)(?:[^<"\\]|\\[^<"]){0,4096}?[A-Za-z])(?:[^<"\\]|\\[^<"]|\\(?=<\/)){1,4096}(?=<\/))`,
      "gi",
    ),
    replacement: "$1[REDACTED_SECRET]",
    needs: "<",
    test: KEYWORD_TEST,
  },
  {
    // the value of a name/value pair whose name is a secret's key: `{"name": "password", "value":
    // "…"}`, `{"Key": "api_key", "Value": …}`, Kubernetes' `- name: DB_PASSWORD` / `value: …`,
    // .NET's `<add key="DbPassword" value="…"/>`, CloudFormation's `ParameterKey`/`ParameterValue`;
    // the value right after the name (only space, escaped once or more, and a comma between them);
    // not a bare number (`"value": 12`, `1e-7`: a setting, and masking it would break the JSON);
    // only a value that looks like a secret (`SECRET_LIKE`: `{"name": "token", "value": "Hello"}`,
    // `<input name="csrf_token" value="Submit">` are left), not code (a template literal, `${…}`)
    kind: "password or secret assignment",
    pattern: re(
      String.raw`((?:parameter[_-]?)?(?:name|key)(?<=${BEFORE_WORD}(?:parameter[_-]?)?(?:name|key))(?:\\{0,8}["'])?${wsDeep(8)}[:=]${wsDeep(8)}(?:\\{0,8}["'])?[A-Za-z0-9_./-]{0,40}?${NOT_SPECIAL_TOKEN}(?:${KEYWORDS})${KEY_SUFFIX}(?:\\{0,8}["'])?${wsDeep(40)}(?:,${wsDeep(40)})?(?:\\{0,8}["'])?(?:parameter[_-]?)?value(?:\\{0,8}["'])?${wsDeep(8)}[:=]${wsDeep(8)}(?:[|>][-+]?(?:\s|\\{1,8}[nrt]){1,8})?(?:[bBrRuU]?(\\{0,8})["']${NOT_CLOSING})?)(?!(?<!["'])${NUMBER}(?![^\s"'\\,;&}\]])|\`|\$\{)${SECRET_LIKE}${secretValue(2)}`,
      "gi",
    ),
    replacement: "$1[REDACTED_SECRET]",
    test: /value/i,
  },
  {
    // a secret set in the environment by a call: `os.environ.setdefault("API_KEY", "…")`, Go's
    // `os.Setenv("DB_PASSWORD", "…")`, `putenv`, .NET's `SetEnvironmentVariable` (a subscript,
    // `os.environ["API_KEY"] = …`, and a property, `process.env.API_KEY = …`, are assignments)
    kind: "password or secret assignment",
    pattern: re(
      String.raw`((?:setenv|putenv|setdefault|SetEnvironmentVariable)\(${ws(8)}\\{0,8}["'][A-Za-z0-9_.-]{0,40}?(?:${KEYWORDS})${KEY_SUFFIX}\\{0,8}["']${ws(8)},${ws(8)}[bBrRuU]?(\\{0,8})["']${NOT_CLOSING})${secretValue(2)}`,
      "gi",
    ),
    replacement: "$1[REDACTED_SECRET]",
    test: /setenv|putenv|setdefault|SetEnvironmentVariable/i,
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

/** The kinds of secret the default redactor masks, in the order it first applies them (each once). */
export const SECRET_KINDS: readonly string[] = [...new Set(patterns.map((p) => p.kind))];

/**
 * The default redactor: masks private keys (PEM, OpenPGP), credentials in URLs, bearer tokens (and
 * other Authorization schemes' credentials), HTTP Basic credentials (and curl's `-u user:password`),
 * webhook URLs (Slack, Discord), JWTs, API keys of the common providers, AWS secret access keys,
 * password and secret assignments (also command-line flags, `pass=`, XML elements, name/value pairs
 * and environment settings), e-mail addresses, US SSNs, IBANs, card numbers and phone numbers
 * (`SECRET_KINDS`), in raw text and in JSON alike. Extend it with `redactWith([...patterns])`.
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
