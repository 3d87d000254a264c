import { mkdtempSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import type { BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { Annotation, Command, interrupt, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent, ToolNode } from "@langchain/langgraph/prebuilt";
import { loadMcpTools } from "@langchain/mcp-adapters";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { SpanKind, SpanStatusCode, type TracerProvider } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { instrumentMcp, traceMcpServer } from "../adapters/mcp/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import { captureText, REDACTION_MARGIN } from "../src/content.js";
import {
  type ContentField,
  type DashboardData,
  isBreakerTrip,
  type Redactor,
  readStore,
  redactSecrets,
  serveDashboard,
  type TaskSummary,
  Warden,
} from "../src/index.js";
import { TEST_PRICES, user } from "./support/agents.js";
import { memoryTracing, one } from "./support/otel.js";

instrumentMcp();

// The planted secrets, one of every kind the default redactor covers, each on its own line: JSON
// turns the newline before each into the two characters `\n`, so a pattern that needs a word
// boundary before a secret misses it in captured (serialised) content. Each entry: the secret, what
// the default redactor leaves of it, and its distinctive parts (none may appear anywhere).
const EMAIL = "alice.secret@example.com";
const OPENAI_BODY = "Q7wErTy2UiOp4AsDf6GhJk8L";
const OPENAI_KEY = `sk-proj-${OPENAI_BODY}`;
const AWS_BODY = "Q7WERTY2UIOP4ASD";
const AWS_KEY = `AKIA${AWS_BODY}`;
const JWT_PAYLOAD = "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFsaWNlIn0";
const JWT_SIGNATURE = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const JWT = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${JWT_PAYLOAD}.${JWT_SIGNATURE}`;
const PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj";
/** A session token longer than the 512 characters a quoted value was once cut at. */
const LONG_TOKEN = `IQoJb3JpZ2luX2VjE${"Ab9Cd8Ef7Gh6".repeat(60)}Zz`;
/** The body of an armoured OpenPGP key (base64 lines). */
const PGP_BODY =
  "lQdGBGVk1pABEADH3k9Lm2PwJalrXUtnFEMIK7MDENGbPxRfiCYzq3Xk9Lm2PqRsTuVw\nXyZaBcDeFgHiJkLmNoPqRsTuVwXyZa0123456789AbCdEfGhIjKlMnOpQrStUvWxYz";
const SECRETS: ReadonlyArray<readonly [secret: string, redacted: string, fragments: readonly string[]]> = [
  [EMAIL, "[REDACTED_EMAIL]", [EMAIL, "alice.secret"]],
  [OPENAI_KEY, "[REDACTED_KEY]", [OPENAI_KEY, OPENAI_BODY]],
  ["sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2", "[REDACTED_KEY]", ["Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2"]],
  [AWS_KEY, "[REDACTED_KEY]", [AWS_KEY, AWS_BODY]],
  // An AWS secret access key: 40 characters of base64, mixed case and digits.
  ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq3Xk9Lm2P", "[REDACTED_KEY]", ["wJalrXUtnFEMI", "bPxRfiCYzq3Xk9Lm2P"]],
  ["sk_live_51HqLyjWDarjtT1zdp7dcXYZab", "[REDACTED_KEY]", ["51HqLyjWDarjtT1zdp7dcXYZab"]],
  ["ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "[REDACTED_KEY]", ["A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"]],
  [
    "github_pat_11ABCDEFG0abcdefghijkl_MNOPQRSTUVWXYZabcdefghij0123456789",
    "[REDACTED_KEY]",
    ["11ABCDEFG0abcdefghijkl_MNOPQRSTUVWXYZabcdefghij0123456789"],
  ],
  ["glpat-Ab1Cd2Ef3Gh4Ij5Kl6Mn", "[REDACTED_KEY]", ["Ab1Cd2Ef3Gh4Ij5Kl6Mn"]],
  ["xoxb-123456789012-AbCdEfGhIjKlMnOpQrStUvWx", "[REDACTED_KEY]", ["AbCdEfGhIjKlMnOpQrStUvWx"]],
  ["AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "[REDACTED_KEY]", ["SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"]],
  ["npm_Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb7", "[REDACTED_KEY]", ["Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb7"]],
  ["hf_Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb", "[REDACTED_KEY]", ["hf_Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb"]],
  [
    "SG.Ab1Cd2Ef3Gh4Ij5Kl6Mn7O.Pq8Rs9Tu0Vw1Xy2Za3Bc4De5Fg6Hi7Jk8Lm9No0Pq1Rs2Tu",
    "[REDACTED_KEY]",
    ["Ab1Cd2Ef3Gh4Ij5Kl6Mn7O", "Pq8Rs9Tu0Vw1Xy2Za3Bc4De5Fg6Hi7Jk8Lm9No0Pq1Rs2Tu"],
  ],
  // A JWT without "Bearer ".
  [JWT, "[REDACTED_TOKEN]", [JWT_PAYLOAD, JWT_SIGNATURE]],
  ["Bearer 9f8e7d6c5b4a3928170615243342", "Bearer [REDACTED_TOKEN]", ["9f8e7d6c5b4a3928170615243342"]],
  [
    "postgres://admin:s3cretPassw0rd@db.internal:5432/app",
    "postgres://[REDACTED_CREDENTIALS]@db.internal:5432/app",
    ["s3cretPassw0rd"],
  ],
  ["password=hunter2Hunter2", "password=[REDACTED_SECRET]", ["hunter2Hunter2"]],
  [
    `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----`,
    "[REDACTED_PRIVATE_KEY]",
    [PEM_BODY.slice(0, 24), PEM_BODY.slice(-24)],
  ],
  // A US social security number, a card number, a phone number, an IBAN.
  ["123-45-6789", "[REDACTED_SSN]", ["123-45-6789"]],
  ["4111 1111 1111 1111", "[REDACTED_NUMBER]", ["4111 1111 1111 1111"]],
  ["+1 415-555-0132", "[REDACTED_PHONE]", ["415-555-0132"]],
  ["GB82 WEST 1234 5698 7654 32", "[REDACTED_IBAN]", ["WEST 1234 5698"]],
  // Secret keys named with more parts around the keyword (snake, camel, a number after it).
  ["MY_APP_DB_PASSWORD=hunter2-prod-Zq9", "MY_APP_DB_PASSWORD=[REDACTED_SECRET]", ["hunter2-prod-Zq9"]],
  ["DB_PASSWORD_PROD=Vq8-prod-Rt5", "DB_PASSWORD_PROD=[REDACTED_SECRET]", ["Vq8-prod-Rt5"]],
  ['"aws_secret_access_key": "Wq7Er5Ty3Ui1"', '"aws_secret_access_key": "[REDACTED_SECRET]"', ["Wq7Er5Ty3Ui1"]],
  ["stripeApiSecretKey: Kx7-oauth-Zq9", "stripeApiSecretKey: [REDACTED_SECRET]", ["Kx7-oauth-Zq9"]],
  ['"password2": "Pz4-second-Lm6"', '"password2": "[REDACTED_SECRET]"', ["Pz4-second-Lm6"]],
  // A quoted value with a quote inside (escaped in JSON): masked to its closing quote, not to the inner one.
  ['password: "P@ss\\"tail-of-the-password-Zq9"', 'password: "[REDACTED_SECRET]"', ["tail-of-the-password-Zq9"]],
  // Single quotes with an escaped quote inside (JS, Python repr), a hash rocket, a YAML block scalar,
  // a value longer than 512 characters (an STS session token).
  ["api_key: 'it\\'s-Sx9-secret'", "api_key: '[REDACTED_SECRET]'", ["s-Sx9-secret"]],
  [":password => 'Rk4-rocket-Zq8'", ":password => '[REDACTED_SECRET]'", ["Rk4-rocket-Zq8"]],
  ["token: >-\n  Zq7Wx9Pk2Lm4", "token: >-\n  [REDACTED_SECRET]", ["Zq7Wx9Pk2Lm4"]],
  [`"SessionToken": "${LONG_TOKEN}"`, '"SessionToken": "[REDACTED_SECRET]"', [LONG_TOKEN.slice(-40)]],
  [
    "https://discord.com/api/v10/webhooks/1234567890123456789/Vb2Nm3Qw4Er5Ty6Ui7Op8As9Df0Gh1Jk2Lz3",
    "https://discord.com/api/v10/webhooks/[REDACTED_TOKEN]",
    ["Vb2Nm3Qw4Er5Ty6Ui7Op8As9Df0Gh1Jk2Lz3"],
  ],
  ["GPG_PASSPHRASE=correct-horse-Wq2", "GPG_PASSPHRASE=[REDACTED_SECRET]", ["correct-horse-Wq2"]],
  ['"passcode": "Ys6-pass-Lk3"', '"passcode": "[REDACTED_SECRET]"', ["Ys6-pass-Lk3"]],
  // Suffixes that still name the secret: a framework's, a version, whose it is, its format.
  ["SECRET_KEY_BASE=Fq3-rails-base-Wx7", "SECRET_KEY_BASE=[REDACTED_SECRET]", ["Fq3-rails-base-Wx7"]],
  ['"api_key_v2": "Nb5-versioned-Kj2"', '"api_key_v2": "[REDACTED_SECRET]"', ["Nb5-versioned-Kj2"]],
  ["password_root: Rt9-root-Zq1", "password_root: [REDACTED_SECRET]", ["Rt9-root-Zq1"]],
  ['"private_key_pem": "Pm4-pem-body-Hs8"', '"private_key_pem": "[REDACTED_SECRET]"', ["Pm4-pem-body-Hs8"]],
  // An OpenPGP private key block (armour headers and a checksum line in its body).
  [
    `-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n${PGP_BODY}\n=Xq7P\n-----END PGP PRIVATE KEY BLOCK-----`,
    "[REDACTED_PRIVATE_KEY]",
    [PGP_BODY.slice(0, 24), PGP_BODY.slice(-24)],
  ],
  // HTTP Basic credentials (base64 of user:password) in an Authorization header.
  [
    "Authorization: Basic YWxpY2U6czNjcmV0UGFzc3cwcmQ=",
    "Authorization: Basic [REDACTED_TOKEN]",
    ["YWxpY2U6czNjcmV0UGFzc3cwcmQ"],
  ],
  // Incoming-webhook URLs carry their secret in the path (Slack, Discord).
  [
    "https://hooks.slack.com/services/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",
    "https://hooks.slack.com/services/[REDACTED_TOKEN]",
    ["Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2", "T0A1B2C3D/B4E5F6G7H"],
  ],
  [
    "https://discord.com/api/webhooks/1234567890123456789/Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3",
    "https://discord.com/api/webhooks/[REDACTED_TOKEN]",
    ["Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3"],
  ],
  // Command-line flags named by a secret keyword, the value after a space (after `=` it is an
  // assignment), unquoted or quoted (a space inside, shell quotes, escaped quotes in JSON).
  ["mysql --password Hx7-cli-space-Q2 -h db", "mysql --password [REDACTED_SECRET] -h db", ["Hx7-cli-space-Q2"]],
  ["mysql --password=Hx7-cli-eq-Q3", "mysql --password=[REDACTED_SECRET]", ["Hx7-cli-eq-Q3"]],
  [
    "deploy --api-key Ak4-cli-key-Zq9 --region eu",
    "deploy --api-key [REDACTED_SECRET] --region eu",
    ["Ak4-cli-key-Zq9"],
  ],
  ["gh auth --token Tk5cli6token7Zq8", "gh auth --token [REDACTED_SECRET]", ["Tk5cli6token7Zq8"]],
  [
    "psql --db-password 'Qp3 spaced-cli Wz'",
    "psql --db-password '[REDACTED_SECRET]'",
    ["Qp3 spaced-cli Wz", "spaced-cli"],
  ],
  [
    'app -client-secret "Cs7 quoted-cli Lm"',
    'app -client-secret "[REDACTED_SECRET]"',
    ["Cs7 quoted-cli Lm", "quoted-cli"],
  ],
  // curl's -u / --user user:password (HTTP Basic in clear): the credentials whole, where curl is
  // the command (here after a prompt's `$ `, as the rows are also checked after a word).
  [
    "$ curl -sS -u alice:Cu8-basic-Pw4 https://api.example.com/v1",
    "$ curl -sS -u [REDACTED_CREDENTIALS] https://api.example.com/v1",
    ["Cu8-basic-Pw4", "alice:Cu8"],
  ],
  [
    '$ curl -X POST --user "bob:Cu9-user-Pw5" https://api.example.com',
    '$ curl -X POST --user "[REDACTED_CREDENTIALS]" https://api.example.com',
    ["Cu9-user-Pw5", "bob:Cu9"],
  ],
  // Its options continued on the next line (`\` at a line's end); an API key as the user, no password.
  [
    "$ curl -X POST https://api.example.com/v1 \\\n  -u alice:Cu1-cont-Pw2 \\\n  -H 'Accept: application/json'",
    "$ curl -X POST https://api.example.com/v1 \\\n  -u [REDACTED_CREDENTIALS] \\\n  -H 'Accept: application/json'",
    ["Cu1-cont-Pw2", "alice:Cu1"],
  ],
  [
    "$ curl https://api.example.com/v2/customers -u Cu2KeyAsUser3Zq:",
    "$ curl https://api.example.com/v2/customers -u [REDACTED_CREDENTIALS]",
    ["Cu2KeyAsUser3Zq"],
  ],
  // `pass` as a key: a query string, an environment variable, an object literal, camel case,
  // OpenSSL's pass:…
  [
    "https://example.com/login?user=alice&pass=Ps6-query-Wd2&next=/",
    "https://example.com/login?user=alice&pass=[REDACTED_SECRET]&next=/",
    ["Ps6-query-Wd2"],
  ],
  ["SMTP_PASS=Ps7-env-Wd3", "SMTP_PASS=[REDACTED_SECRET]", ["Ps7-env-Wd3"]],
  ["auth: { user: 'me', pass: 'Ps8-obj-Wd4' }", "auth: { user: 'me', pass: '[REDACTED_SECRET]' }", ["Ps8-obj-Wd4"]],
  // A JSON key `pass` before a quoted value that looks like a secret (letters and digits, no space);
  // an environment variable *_PASS quoted in JSON or YAML.
  ['{"user": "me", "pass": "Ps9-json-Wd5"}', '{"user": "me", "pass": "[REDACTED_SECRET]"}', ["Ps9-json-Wd5"]],
  ['"DB_PASS": "Ps3-compose-Wd8"', '"DB_PASS": "[REDACTED_SECRET]"', ["Ps3-compose-Wd8"]],
  [
    "openssl enc -aes256 -pass pass:Ps1-openssl-Wd6",
    "openssl enc -aes256 -pass pass:[REDACTED_SECRET]",
    ["Ps1-openssl-Wd6"],
  ],
  // A bare `pass:` at a line's start is a YAML key.
  ["smtp:\n  user: me\n  pass: Ps2-yaml-Wd7", "smtp:\n  user: me\n  pass: [REDACTED_SECRET]", ["Ps2-yaml-Wd7"]],
  // Authorization schemes other than Bearer and Basic; an API key header.
  [
    "Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
    "Authorization: Token [REDACTED_TOKEN]",
    ["9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"],
  ],
  ['"Authorization": "SSWS 00Ok7-okta-Zq4Wx"', '"Authorization": "SSWS [REDACTED_TOKEN]"', ["00Ok7-okta-Zq4Wx"]],
  ["X-Api-Key: Xk3-header-Zq7", "X-Api-Key: [REDACTED_SECRET]", ["Xk3-header-Zq7"]],
  // XML elements named by a secret keyword (a namespace, attributes, CDATA).
  ["<password>Xp2-xml-pass-Lq8</password>", "<password>[REDACTED_SECRET]</password>", ["Xp2-xml-pass-Lq8"]],
  ["<apiKey>Xa3-xml-key-Lq9</apiKey>", "<apiKey>[REDACTED_SECRET]</apiKey>", ["Xa3-xml-key-Lq9"]],
  ["<secret>Xs4-xml-secret-Lq1</secret>", "<secret>[REDACTED_SECRET]</secret>", ["Xs4-xml-secret-Lq1"]],
  // A dotted element name (Maven's properties).
  ["<db.password>Xd7-dotted-Lq4</db.password>", "<db.password>[REDACTED_SECRET]</db.password>", ["Xd7-dotted-Lq4"]],
  [
    '<sts:SessionToken xmlns:sts="urn:x">Xt5-xml-token-Lq2</sts:SessionToken>',
    '<sts:SessionToken xmlns:sts="urn:x">[REDACTED_SECRET]</sts:SessionToken>',
    ["Xt5-xml-token-Lq2"],
  ],
  [
    "<db_password><![CDATA[Xc6 <cdata> Lq3]]></db_password>",
    "<db_password>[REDACTED_SECRET]</db_password>",
    ["Xc6 <cdata> Lq3", "Xc6"],
  ],
  // Name/value pairs: JSON, Kubernetes env (YAML), .NET appSettings, CloudFormation parameters.
  [
    '{"name": "password", "value": "Nv7-pair-Wq1"}',
    '{"name": "password", "value": "[REDACTED_SECRET]"}',
    ["Nv7-pair-Wq1"],
  ],
  [
    '{"key": "api_key", "value": "Nv8-pair-key-Wq2"}',
    '{"key": "api_key", "value": "[REDACTED_SECRET]"}',
    ["Nv8-pair-key-Wq2"],
  ],
  [
    "env:\n- name: DB_PASSWORD\n  value: Nv9-k8s-Wq3",
    "env:\n- name: DB_PASSWORD\n  value: [REDACTED_SECRET]",
    ["Nv9-k8s-Wq3"],
  ],
  // The same serialised once already (escaped newlines; the rows are also checked serialised again).
  [
    "env:\\n- name: DB_PASSWORD\\n  value: Nv3-k8s-twice-Wq6",
    "env:\\n- name: DB_PASSWORD\\n  value: [REDACTED_SECRET]",
    ["Nv3-k8s-twice-Wq6"],
  ],
  [
    '<add key="DbPassword" value="Nv1-config-Wq4" />',
    '<add key="DbPassword" value="[REDACTED_SECRET]" />',
    ["Nv1-config-Wq4"],
  ],
  [
    '{"ParameterKey": "MasterUserPassword", "ParameterValue": "Nv2-cfn-Wq5"}',
    '{"ParameterKey": "MasterUserPassword", "ParameterValue": "[REDACTED_SECRET]"}',
    ["Nv2-cfn-Wq5"],
  ],
  // Setting an environment variable: a subscript, a property, a call.
  ['os.environ["API_KEY"] = "Ev2-environ-Zk5"', 'os.environ["API_KEY"] = "[REDACTED_SECRET]"', ["Ev2-environ-Zk5"]],
  ["ENV['SECRET_TOKEN'] = 'Ev3-ruby-env-Zk6'", "ENV['SECRET_TOKEN'] = '[REDACTED_SECRET]'", ["Ev3-ruby-env-Zk6"]],
  ['process.env.API_KEY = "Ev4-node-env-Zk7"', 'process.env.API_KEY = "[REDACTED_SECRET]"', ["Ev4-node-env-Zk7"]],
  [
    'os.environ.setdefault("GITHUB_TOKEN", "Ev5-setdefault-Zk8")',
    'os.environ.setdefault("GITHUB_TOKEN", "[REDACTED_SECRET]")',
    ["Ev5-setdefault-Zk8"],
  ],
  [
    'os.Setenv("DB_PASSWORD", "Ev6-go-setenv-Zk9")',
    'os.Setenv("DB_PASSWORD", "[REDACTED_SECRET]")',
    ["Ev6-go-setenv-Zk9"],
  ],
  // A comparison with a literal shows the secret as well as an assignment does.
  [
    'if os.environ["API_KEY"] == "Eq7-compare-Zk1":',
    'if os.environ["API_KEY"] == "[REDACTED_SECRET]":',
    ["Eq7-compare-Zk1"],
  ],
  ['if password != "Ne5-compare-Zk2": deny()', 'if password != "[REDACTED_SECRET]": deny()', ["Ne5-compare-Zk2"]],
  ['if (token !== "Ne6-strict-Zk3") throw e;', 'if (token !== "[REDACTED_SECRET]") throw e;', ["Ne6-strict-Zk3"]],
  // A flag and its value as items of an argument list.
  ['["mysql", "--password", "Fa4-argv-Zq7"]', '["mysql", "--password", "[REDACTED_SECRET]"]', ["Fa4-argv-Zq7"]],
  // pwd keys other than the shell's own PWD and OLDPWD: a value starting with / or ~ is no path there.
  ["UID=sa;PWD=/k8HqZ3mWp+Vn2;", "UID=sa;PWD=[REDACTED_SECRET];", ["k8HqZ3mWp+Vn2"]],
  ["MYSQL_PWD=~Pw5-mysql-Zq2", "MYSQL_PWD=[REDACTED_SECRET]", ["Pw5-mysql-Zq2"]],
  ['{"pwd":"/Pw6-json-Zq3"}', '{"pwd":"[REDACTED_SECRET]"}', ["Pw6-json-Zq3"]],
];
/** Whole secrets and their distinctive parts: none may appear anywhere, cut or not. */
const FRAGMENTS = SECRETS.flatMap(([secret, , parts]) => [secret, ...parts]);

/** Text carrying every secret, each on a line of its own, tagged with where it was planted. */
const plant = (where: string) => [where, ...SECRETS.map(([secret]) => secret)].join("\n");
/** The same text as the default redactor leaves it. */
const redacted = (where: string) => [where, ...SECRETS.map(([, r]) => r)].join("\n");

const leaks = (text: string) => FRAGMENTS.filter((f) => text.includes(f));

/** Everything a span exports, as one string: name, kind, attributes, status, events, links, resource, scope. */
function exported(spans: readonly ReadableSpan[]): string {
  return JSON.stringify(
    spans.map((s) => ({
      name: s.name,
      kind: s.kind,
      attributes: s.attributes,
      status: s.status,
      events: s.events.map((e) => ({ name: e.name, attributes: e.attributes ?? {} })),
      links: s.links.map((l) => ({ context: l.context, attributes: l.attributes ?? {} })),
      resource: s.resource.attributes,
      scope: s.instrumentationScope,
    })),
  );
}

const CONTENT_KEYS = [
  "gen_ai.input.messages",
  "gen_ai.output.messages",
  "gen_ai.system_instructions",
  "gen_ai.tool.definitions",
  "gen_ai.tool.call.arguments",
  "gen_ai.tool.call.result",
  "agentwarden.recovery.message",
];

const lastText = (state: unknown) => String((state as { messages: BaseMessage[] }).messages.at(-1)?.content ?? "");

/** What reached the agent's own code unredacted: proof that the secrets really went through it. */
interface Seen {
  tool: string[];
  mcp: string[];
}

/**
 * A ReAct agent that meets the secrets everywhere: in its system message and prompt, in the tool
 * arguments its model writes, in a tool result, a tool error (recovered by a corrective message),
 * its model's answer, an eval-driven correction's feedback and a final eval's feedback.
 */
function vaultAgent(warden: Warden, seen: Seen) {
  const lookup = tool(
    async ({ query }: { query: string }) => {
      seen.tool.push(query);
      return plant("account of");
    },
    { name: "lookup", description: "Looks an account up.", schema: z.object({ query: z.string() }) },
  );
  const charge = tool(
    async ({ account }: { account: string }) => {
      seen.tool.push(account);
      throw new Error(plant("no account for"));
    },
    { name: "charge", description: "Charges an account.", schema: z.object({ account: z.string() }) },
  );
  const llm = new ScriptedChatModel({
    model: "test-model",
    script: [
      {
        toolCalls: [
          { name: "lookup", args: { query: plant("lookup args") }, id: "call_lookup" },
          { name: "charge", args: { account: plant("charge args") }, id: "call_charge" },
        ],
      },
      { content: plant("first answer") },
      { content: "final answer: done" },
    ],
  });
  return wrapGraph(createReactAgent({ llm, tools: [lookup, charge], name: "vault" }), {
    warden,
    corrections: [
      {
        evaluators: [
          {
            name: "answer_check",
            evaluate: (state) =>
              lastText(state).startsWith("final answer")
                ? { pass: true }
                : { pass: false, reason: plant("judge says") },
          },
        ],
      },
    ],
    finalEvals: [{ name: "policy", evaluate: () => ({ pass: false, reason: plant("policy feedback") }) }],
  });
}

const vaultInput = {
  messages: [
    { role: "system", content: plant("system") },
    { role: "user", content: plant("user") },
  ],
};

async function runVault(warden: Warden, seen: Seen) {
  const out = await vaultAgent(warden, seen).invoke(vaultInput);
  expect(lastText(out)).toBe("final answer: done");
  return out;
}

/** A model call that fails with the secrets in its message. */
async function runModelError(warden: Warden) {
  const llm = new ScriptedChatModel({
    model: "test-model",
    script: [{ error: new Error(plant("provider rejected")) }],
  });
  const agent = wrapGraph(createReactAgent({ llm, tools: [], name: "vault_model" }), { warden });
  await expect(agent.invoke(user("hello"))).rejects.toThrow(plant("provider rejected"));
}

/** A shared budget keyed by a tenant that is an e-mail address: the trip's reason names it. */
async function runTrip(warden: Warden) {
  const llm = new ScriptedChatModel({ model: "test-model", script: [{ content: "never" }] });
  const agent = wrapGraph(createReactAgent({ llm, tools: [], name: "vault_budget" }), { warden });
  const error = await agent.invoke(user("hello"), { configurable: { agentwarden: { tenant: EMAIL } } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isBreakerTrip(error)).toBe(true);
  expect(llm.calls).toBe(0);
}

/**
 * A StateGraph workflow calling a real (in-process) MCP server directly: one error result and one
 * thrown handler error carrying the secrets, then an interrupt whose value and resume carry them.
 */
async function runMcpFlow(warden: Warden, seen: Seen, provider: TracerProvider) {
  const server = new Server({ name: "vault-mcp", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [] }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const args = (request.params.arguments ?? {}) as { email?: string; mode?: string };
    seen.mcp.push(String(args.email));
    if (args.mode === "result") return { content: [{ type: "text", text: plant("mcp error result") }], isError: true };
    throw new Error(plant("mcp handler threw"));
  });
  traceMcpServer(server, { tracerProvider: provider });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "vault-client", version: "1.0.0" });
  await client.connect(clientSide);

  const S = Annotation.Root({
    out: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  });
  const graph = new StateGraph(S)
    .addNode("work", async () => {
      const out: string[] = [];
      const result = (await client.callTool({ name: "vault_lookup", arguments: { email: EMAIL, mode: "result" } })) as {
        content: Array<{ text: string }>;
        isError?: boolean;
      };
      out.push(`${result.isError ? "error" : "ok"}: ${result.content[0]?.text}`);
      try {
        await client.callTool({ name: "vault_lookup", arguments: { email: EMAIL, mode: "throw" } });
        out.push("accepted");
      } catch (error) {
        out.push(`thrown: ${(error as Error).message}`);
      }
      return { out };
    })
    .addNode("ask", () => ({ out: [String(interrupt(plant("interrupt question")))] }))
    .addEdge(START, "work")
    .addEdge("work", "ask")
    .compile({ name: "vault_flow", checkpointer: new MemorySaver() });
  const flow = wrapGraph(graph, { warden });
  const config = { configurable: { thread_id: "thread-1" } };
  const paused = await flow.invoke({}, config);
  expect(paused.out).toEqual([
    `error: ${plant("mcp error result")}`,
    `thrown: MCP error -32603: ${plant("mcp handler threw")}`,
  ]);
  const resumed = await flow.invoke(new Command({ resume: plant("resume") }), config);
  expect(resumed.out.at(-1)).toBe(plant("resume"));
  await client.close();
  await server.close();
}

/** The whole scenario against one Warden: the agent, a model error, a breaker trip, the MCP workflow. */
async function runAll(warden: Warden, provider: TracerProvider): Promise<void> {
  const seen: Seen = { tool: [], mcp: [] };
  await runVault(warden, seen);
  await runModelError(warden);
  await runTrip(warden);
  await runMcpFlow(warden, seen, provider);
  // The secrets did reach the agent's code: what follows checks they went no further.
  expect(seen.tool).toEqual([plant("lookup args"), plant("charge args")]);
  expect(seen.mcp).toEqual([EMAIL, EMAIL]);
  expect(warden.stats().openTasks).toBe(0);
}

const wardenOptions = (store?: string) => ({
  prices: TEST_PRICES,
  recovery: {},
  sharedBudgets: [{ name: "tenant-hourly", key: "tenant" as const, maxCostUsd: 0, windowMs: 3_600_000 }],
  ...(store ? { store } : {}),
});

describe("with content capture on, no secret leaves the agent unredacted", () => {
  const { provider, spans } = memoryTracing();
  const store = join(mkdtempSync(join(tmpdir(), "aw-security-")), "runs.jsonl");
  const warden = new Warden({ tracerProvider: provider, captureContent: true, ...wardenOptions(store) });

  beforeAll(async () => {
    await runAll(warden, provider);
    await warden.shutdown();
  }, 30_000);

  it("no exported span carries a secret: names, attributes, nested JSON, status, events, links, resource", () => {
    const text = exported(spans());
    expect(text.length).toBeGreaterThan(10_000);
    expect(leaks(text)).toEqual([]);
  });

  it("captured content is there, redacted, where the agent put the secrets", () => {
    const s = spans();
    const [firstChat, secondChat] = s.filter((x) => x.name === "chat test-model");
    // System message (the system instructions) and user prompt, in the conventions' shapes.
    expect(JSON.parse(String(firstChat?.attributes["gen_ai.system_instructions"]))).toEqual([
      { type: "text", content: redacted("system") },
    ]);
    expect(JSON.parse(String(firstChat?.attributes["gen_ai.input.messages"]))).toEqual([
      { role: "user", parts: [{ type: "text", content: redacted("user") }] },
    ]);
    // The tool call arguments the model wrote.
    const calls = JSON.parse(String(firstChat?.attributes["gen_ai.output.messages"])) as Array<{
      parts: Array<{ type: string; arguments?: unknown }>;
    }>;
    expect(calls[0]?.parts.filter((p) => p.type === "tool_call").map((c) => c.arguments)).toEqual([
      { query: redacted("lookup args") },
      { account: redacted("charge args") },
    ]);
    // The model's answer.
    expect(JSON.parse(String(secondChat?.attributes["gen_ai.output.messages"]))).toEqual([
      { role: "assistant", parts: [{ type: "text", content: redacted("first answer") }], finish_reason: "stop" },
    ]);
    // A tool's arguments and result.
    const lookup = one(s, "execute_tool lookup");
    expect(lookup.attributes["gen_ai.tool.call.arguments"]).toBe(JSON.stringify({ query: redacted("lookup args") }));
    expect(lookup.attributes["gen_ai.tool.call.result"]).toBe(redacted("account of"));
    // A thrown tool error: the span's status message.
    const charge = one(s, "execute_tool charge");
    expect(charge.status).toEqual({ code: SpanStatusCode.ERROR, message: redacted("no account for") });
    expect(charge.attributes["gen_ai.tool.call.arguments"]).toBe(JSON.stringify({ account: redacted("charge args") }));
    // The corrective message recovery gave the model.
    const corrective = String(one(s, "recover charge").attributes["agentwarden.recovery.message"]);
    // Its detail: the error's lines joined by "; ", redacted, cut to 400 characters.
    const detail = redacted("no account for").split("\n").join("; ");
    expect(corrective.split("\n")[0]).toBe(
      `Tool "charge" failed (a permanent error): ${detail.length > 400 ? `${detail.slice(0, 400)}…` : detail}`,
    );
    // Eval feedback: the correction's check and the final eval.
    const evals = s.filter((x) => x.name === "eval answer_check");
    expect(evals.map((e) => e.attributes["gen_ai.evaluation.explanation"])).toEqual([
      redacted("judge says"),
      undefined,
    ]);
    expect(evals[0]?.status.message).toBe(`evaluator answer_check failed: ${redacted("judge says")}`);
    expect(one(s, "recover agent").attributes["agentwarden.recovery.message"]).toBe(
      `Your previous answer did not pass the check "answer_check": ${redacted("judge says")}. Correct your answer and reply again.`,
    );
    const policy = one(s, "eval policy");
    expect(policy.attributes["gen_ai.evaluation.explanation"]).toBe(redacted("policy feedback"));
    expect(one(s, "invoke_agent vault").status).toEqual({
      code: SpanStatusCode.ERROR,
      message: `evaluator policy failed: ${redacted("policy feedback")}`,
    });
  });

  it("error messages are redacted on every span: model error, breaker trip, MCP client and server", () => {
    const s = spans();
    expect(one(s, "invoke_agent vault_model").status.message).toBe(redacted("provider rejected"));
    const budget = one(s, "invoke_agent vault_budget");
    expect(budget.status.message).toMatch(
      /^agentwarden: shared_budget breaker tripped: budget tenant-hourly for \[REDACTED_EMAIL\]: /,
    );
    const trips = s.flatMap((x) => x.events.filter((e) => e.name === "agentwarden.breaker.trip"));
    expect(trips).toHaveLength(2); // on the refused model call's step and on the task's root
    for (const e of trips)
      expect(String(e.attributes?.reason)).toMatch(/^budget tenant-hourly for \[REDACTED_EMAIL\]: /);
    const [resultCall, thrownCall] = s.filter(
      (x) => x.name === "tools/call vault_lookup" && x.kind === SpanKind.CLIENT,
    );
    expect(resultCall?.attributes["gen_ai.tool.call.arguments"]).toBe(
      JSON.stringify({ email: "[REDACTED_EMAIL]", mode: "result" }),
    );
    expect(resultCall?.attributes["gen_ai.tool.call.result"]).toBe(
      JSON.stringify([{ type: "text", text: redacted("mcp error result") }]),
    );
    expect(resultCall?.status).toEqual({ code: SpanStatusCode.ERROR, message: redacted("mcp error result") });
    expect(thrownCall?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: `MCP error -32603: ${redacted("mcp handler threw")}`,
    });
    const serverThrown = s.filter((x) => x.name === "tools/call vault_lookup" && x.kind === SpanKind.SERVER);
    expect(serverThrown.map((x) => x.status)).toEqual([
      { code: SpanStatusCode.ERROR },
      { code: SpanStatusCode.ERROR, message: redacted("mcp handler threw") },
    ]);
  });

  it("the JSONL run store holds no secret, and its error messages are the redacted ones", () => {
    const text = readFileSync(store, "utf8");
    expect(leaks(text)).toEqual([]);
    const { summaries, errors } = readStore(store);
    expect(errors).toEqual([]);
    const byAgent = new Map(summaries.map((x) => [x.agent, x] as const));
    expect([...byAgent.keys()].sort()).toEqual(["vault", "vault_budget", "vault_flow", "vault_model"]);
    expect(byAgent.get("vault")?.error).toEqual({
      type: "eval_failed",
      message: `evaluator policy failed: ${redacted("policy feedback")}`,
    });
    expect(stepErrors(byAgent.get("vault"))).toContainEqual({ type: "Error", message: redacted("no account for") });
    expect(byAgent.get("vault_model")?.error).toEqual({ type: "Error", message: redacted("provider rejected") });
    expect(byAgent.get("vault_budget")?.error?.message).toMatch(/for \[REDACTED_EMAIL\]: /);
    const flows = summaries.filter((x) => x.agent === "vault_flow");
    expect(flows.map((x) => x.outcome)).toEqual(["interrupted", "success"]);
    expect(stepErrors(flows[0])).toEqual([
      { type: "tool_error", message: redacted("mcp error result") },
      { type: "-32603", message: `MCP error -32603: ${redacted("mcp handler threw")}` },
    ]);
  });

  it("the dashboard's JSON data holds no secret, for the overview and every run", async () => {
    const dashboard = await serveDashboard(store, { port: 0 });
    try {
      const res = await fetch(new URL("api/data", dashboard.url));
      expect(res.headers.get("content-type")).toBe("application/json");
      const body = await res.text();
      expect(leaks(body)).toEqual([]);
      const data = JSON.parse(body) as DashboardData;
      expect(data.runs).toHaveLength(5);
      expect(data.runs.find((r) => r.agent === "vault_model")?.error).toBe(`Error: ${redacted("provider rejected")}`);
      for (const run of data.runs) {
        const r = await fetch(new URL(`api/runs/${encodeURIComponent(run.id)}`, dashboard.url));
        expect(r.status).toBe(200);
        const text = await r.text();
        expect(leaks(text)).toEqual([]);
        if (run.agent === "vault") expect(text).toContain(JSON.stringify(redacted("no account for")));
      }
    } finally {
      await dashboard.close();
    }
  });
});

function stepErrors(summary: TaskSummary | undefined) {
  return (summary?.steps ?? [])
    .filter((x) => x.e !== undefined && x.k !== "workflow" && x.k !== "agent")
    .map((x) => x.e);
}

describe("MCP errors a ReAct agent reads back (through @langchain/mcp-adapters)", () => {
  it("reach the next model call's gen_ai.input.messages redacted: an isError result and a thrown handler", async () => {
    const server = new Server({ name: "vault-mcp", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [
        {
          name: "vault_lookup",
          description: "Looks an account up.",
          inputSchema: { type: "object", properties: { mode: { type: "string" } }, required: ["mode"] },
        },
      ],
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      if (request.params.arguments?.mode === "result")
        return { content: [{ type: "text", text: plant("mcp error result") }], isError: true };
      throw new Error(plant("mcp handler threw"));
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: "vault-client", version: "1.0.0" });
    await client.connect(clientSide);
    const tools = await loadMcpTools("vault", client);

    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider, captureContent: true });
    const llm = new ScriptedChatModel({
      model: "test-model",
      script: [
        { toolCalls: [{ name: "vault_lookup", args: { mode: "result" } }] },
        { toolCalls: [{ name: "vault_lookup", args: { mode: "throw" } }] },
        { content: "done" },
      ],
    });
    const agent = wrapGraph(createReactAgent({ llm, tools, name: "vault_mcp_agent" }), { warden });
    const out = await agent.invoke(user("look it up"));
    // The secrets did reach the agent: both errors are in its messages, unredacted.
    const said = JSON.stringify(out.messages.map((m: BaseMessage) => m.content));
    expect(said).toContain(JSON.stringify(plant("mcp error result")).slice(1, -1));
    expect(said).toContain(JSON.stringify(plant("mcp handler threw")).slice(1, -1));
    await client.close();
    await server.close();

    const s = spans();
    expect(leaks(exported(s))).toEqual([]);
    const last = s.filter((x) => x.name === "chat test-model")[2];
    const input = String(last?.attributes["gen_ai.input.messages"]);
    // Serialised, each line of the redacted text follows a `\n`.
    expect(input).toContain(JSON.stringify(redacted("mcp error result")).slice(1, -1));
    expect(input).toContain(JSON.stringify(redacted("mcp handler threw")).slice(1, -1));
  });
});

describe("the redaction hook", () => {
  it("is called for every recorded field, content and errors alike, and nothing leaks", async () => {
    const { provider, spans } = memoryTracing();
    const fields = new Set<ContentField>();
    const redact: Redactor = (text, field) => {
      fields.add(field);
      return redactSecrets(text, field);
    };
    const warden = new Warden({ tracerProvider: provider, captureContent: true, redact, ...wardenOptions() });
    await runAll(warden, provider);
    expect([...fields].sort()).toEqual([
      "error.message",
      "gen_ai.evaluation.explanation",
      "gen_ai.input.messages",
      "gen_ai.output.messages",
      "gen_ai.system_instructions",
      "gen_ai.tool.call.arguments",
      "gen_ai.tool.call.result",
    ]);
    expect(leaks(exported(spans()))).toEqual([]);
  }, 30_000);

  it("with content capture off, still redacts every error message and eval reason (and captures nothing)", async () => {
    const { provider, spans } = memoryTracing();
    const fields = new Set<ContentField>();
    const redact: Redactor = (text, field) => {
      fields.add(field);
      return redactSecrets(text, field);
    };
    const store = join(mkdtempSync(join(tmpdir(), "aw-security-off-")), "runs.jsonl");
    const warden = new Warden({ tracerProvider: provider, redact, ...wardenOptions(store) });
    await runAll(warden, provider);
    await warden.shutdown();
    expect([...fields].sort()).toEqual(["error.message", "gen_ai.evaluation.explanation"]);
    const s = spans();
    expect(leaks(exported(s))).toEqual([]);
    expect(leaks(readFileSync(store, "utf8"))).toEqual([]);
    expect(s.flatMap((x) => Object.keys(x.attributes)).filter((k) => CONTENT_KEYS.includes(k))).toEqual([]);
    expect(one(s, "execute_tool charge").status.message).toBe(redacted("no account for"));
    expect(one(s, "eval policy").attributes["gen_ai.evaluation.explanation"]).toBe(redacted("policy feedback"));
  }, 30_000);

  it("a redactor that throws yields [REDACTION_FAILED] everywhere, is reported, and the agent still answers right", async () => {
    const { provider, spans } = memoryTracing();
    let calls = 0;
    const warden = new Warden({
      tracerProvider: provider,
      captureContent: true,
      recovery: {},
      redact: () => {
        calls++;
        throw new Error("redactor bug");
      },
      onError: () => undefined,
    });
    const seen: Seen = { tool: [], mcp: [] };
    const out = await runVault(warden, seen);
    expect(seen.tool).toEqual([plant("lookup args"), plant("charge args")]);
    // The model still got a corrective message it can act on, the detail withheld.
    const corrective = (out.messages as BaseMessage[]).find(
      (m) => m.getType() === "tool" && String(m.content).startsWith('Tool "charge" failed'),
    );
    expect(String(corrective?.content)).toMatch(/^Tool "charge" failed \(a permanent error\): \[REDACTION_FAILED\]\n/);
    const s = spans();
    expect(leaks(exported(s))).toEqual([]);
    const recorded = s.flatMap((x) =>
      Object.entries(x.attributes).filter(([k]) => CONTENT_KEYS.includes(k) || k === "gen_ai.evaluation.explanation"),
    );
    // 3 model calls (system instructions, input, output), lookup (arguments, result), charge
    // (arguments), 2 recovery messages (corrective, eval correction), 2 eval reasons (the failed
    // correction check, policy).
    expect(recorded.length).toBe(3 * 3 + 2 + 1 + 2 + 2);
    expect(recorded.filter(([, v]) => v !== "[REDACTION_FAILED]")).toEqual([]);
    const failed = s.filter((x) => x.status.code === SpanStatusCode.ERROR);
    expect(failed.map((x) => x.name).sort()).toEqual([
      "eval answer_check",
      "eval policy",
      "execute_tool charge",
      "invoke_agent vault",
    ]);
    expect(failed.every((x) => x.status.message === "[REDACTION_FAILED]")).toBe(true);
    expect(warden.stats().telemetryErrors).toEqual({ redact: calls });
    expect(calls).toBe(recorded.length + failed.length + 1); // + the corrective message's detail
  });
});

describe("the dashboard's surface", () => {
  const SCRIPT = "<script>alert(1)</script>";
  const IMG = `"><img src=x onerror=alert(1)>`;
  const agentName = `agent${SCRIPT}${IMG}`;

  it("binds 127.0.0.1 when given no host: reachable on loopback only", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-dash-bind-")), "runs.jsonl");
    const dashboard = await serveDashboard(store, { port: 0 });
    try {
      const url = new URL(dashboard.url);
      expect(url.hostname).toBe("127.0.0.1");
      expect(await reach("127.0.0.1", Number(url.port))).toBe("connected");
      const others = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined && !a.internal && a.family === "IPv4")
        .map((a) => a?.address as string);
      for (const address of others) expect(await reach(address, Number(url.port))).toBe("ECONNREFUSED");
    } finally {
      await dashboard.close();
    }
  });

  it("serves stored markup (agent name, tool error) only as JSON data, never in the page", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-dash-xss-")), "runs.jsonl");
    const warden = new Warden({ tracing: false, store });
    const evil = tool(
      async () => {
        throw new Error(`upstream said: ${SCRIPT}${IMG}`);
      },
      { name: "scrape", description: "Scrapes.", schema: z.object({ url: z.string() }) },
    );
    const llm = new ScriptedChatModel({
      model: "test-model",
      script: [{ toolCalls: [{ name: "scrape", args: { url: "https://example.org" } }] }, { content: "never" }],
    });
    const agent = wrapGraph(
      createReactAgent({ llm, tools: new ToolNode([evil], { handleToolErrors: false }), name: "scraper" }),
      { warden, name: agentName },
    );
    await expect(agent.invoke(user("scrape it"))).rejects.toThrow(SCRIPT);
    await warden.shutdown();

    const dashboard = await serveDashboard(store, { port: 0 });
    try {
      const page = await fetch(dashboard.url);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(page.headers.get("x-content-type-options")).toBe("nosniff");
      const csp = page.headers.get("content-security-policy") ?? "";
      expect(csp).toMatch(/^default-src 'none'; script-src 'nonce-[A-Za-z0-9+/=]+'; /);
      const html = await page.text();
      for (const bad of [SCRIPT, IMG, "alert(1)", "onerror", "upstream said"]) expect(html).not.toContain(bad);

      const dataRes = await fetch(new URL("api/data", dashboard.url));
      expect(dataRes.headers.get("content-type")).toBe("application/json");
      expect(dataRes.headers.get("x-content-type-options")).toBe("nosniff");
      const data = (await dataRes.json()) as DashboardData;
      expect(data.runs.map((r) => [r.agent, r.error])).toEqual([[agentName, `Error: upstream said: ${SCRIPT}${IMG}`]]);

      const runRes = await fetch(new URL(`api/runs/${encodeURIComponent(data.runs[0]?.id ?? "")}`, dashboard.url));
      expect(runRes.headers.get("content-type")).toBe("application/json");
      const run = (await runRes.json()) as TaskSummary;
      expect(run.agent).toBe(agentName);
      expect(run.steps.find((x) => x.k === "tool")?.e).toEqual({
        type: "Error",
        message: `upstream said: ${SCRIPT}${IMG}`,
      });

      // A path carrying markup is not reflected.
      for (const path of [`/${encodeURIComponent(SCRIPT)}`, `/api/runs/${encodeURIComponent(SCRIPT)}`]) {
        const r = await fetch(new URL(path, dashboard.url));
        expect(r.status).toBe(404);
        expect(await r.text()).toBe("");
      }
    } finally {
      await dashboard.close();
    }
  });
});

/** Opens a TCP connection: "connected", or the error code. */
function reach(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve("timeout");
    });
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
  });
}

describe("the cut before redaction", () => {
  it("never keeps a fragment of a secret cut at the margin, even when redactions before it shrink the text", () => {
    // 16 bearer tokens of ~1 KB shrink by ~16 KB when redacted; a key is cut in two by the
    // maxLength + REDACTION_MARGIN boundary, and its unmatched head must not move into the kept part.
    const tokens = Array.from({ length: 16 }, (_, i) => `Bearer ${String(i).padStart(2, "0")}${"x".repeat(998)}`).join(
      " ",
    );
    const maxLength = 16_384;
    const boundary = maxLength + REDACTION_MARGIN;
    const filler = " ".repeat(boundary - 12 - tokens.length);
    const text = `${tokens}${filler}sk-proj-${"K".repeat(30)} tail`;
    expect(text.indexOf("sk-proj-")).toBe(boundary - 12); // the cut falls inside the key
    const kept = captureText(text, "gen_ai.tool.call.result", redactSecrets, maxLength, () => {
      throw new Error("no redaction error expected");
    });
    expect(kept.endsWith("…[truncated]")).toBe(true);
    expect(kept).not.toContain("sk-proj");
    expect(kept).not.toContain("xxxx");
    expect(kept.startsWith("Bearer [REDACTED_TOKEN] Bearer [REDACTED_TOKEN]")).toBe(true);
  });
});

describe("the default redactor's patterns", () => {
  it("mask every kind alone, after a space, after a newline, and inside JSON (after an escape)", () => {
    for (const [secret, masked] of SECRETS) {
      expect(redactSecrets(secret, "error.message")).toBe(masked);
      expect(redactSecrets(`x ${secret} y`, "error.message")).toBe(`x ${masked} y`);
      expect(redactSecrets(`x\n${secret}\ty`, "error.message")).toBe(`x\n${masked}\ty`);
      // Serialised: a newline, a tab, a quote and a control character before the secret.
      for (const before of ["\n", "\t", '"', "\u0001"]) {
        const json = JSON.stringify({ text: `x${before}${secret}` });
        expect(JSON.parse(redactSecrets(json, "gen_ai.input.messages"))).toEqual({ text: `x${before}${masked}` });
      }
    }
  });

  it("keep JSON valid: a quoted value ending in an escaped backslash ends at its own closing quote", () => {
    const json = JSON.stringify({ password: "C:\\path\\", user: "bob" });
    for (const text of [json, JSON.stringify(json)]) {
      const out = redactSecrets(text, "gen_ai.tool.call.arguments");
      const parsed = JSON.parse(text === json ? out : (JSON.parse(out) as string));
      // The escaped backslash before the closing quote stays (one character of no consequence).
      expect(parsed).toEqual({ password: "[REDACTED_SECRET]\\", user: "bob" });
    }
  });

  it("leave look-alikes alone: digests, trace ids, dates, versions, words containing sk-, hex ids", () => {
    for (const text of [
      "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef", // a SHA-1 hex digest: 40 characters, lower case
      "trace 4bf92f3577b34da6a3ce929d0e0e4736",
      "2026-11-26T14:30:12.123Z",
      "version 1.2.3, port 127.0.0.1:8080",
      "task-assessment-for-the-quarterly-review",
      "id=550e8400-e29b-41d4-a716-446655440000",
      "unexpected tokens: 1234",
      "call 12 times",
      // Keys that name a count or a kind of token, or words that start with a keyword.
      "max_tokens: 100",
      '"input_token_count": 300',
      "token_type: Bearer",
      "passwordless: true",
      "secretary: Bob",
      "tokenizer: gpt2",
      // Keys about a secret, not the secret (telemetry, schemas, errors): values and JSON left whole.
      '{"usage_metadata":{"input_tokens":5,"input_token_details":{"cache_read":0},"output_token_details":{"reasoning":0}}}',
      '{"token_ids":[1,2,3],"token_id": 50256,"token_logprobs":[-0.1]}',
      '{"password_required": true, "password_expiry_days": 90, "secret_version": 3}',
      '{"properties":{"password_confirmation":{"type":"string"}}}',
      "ERROR: token_expired: please sign in again",
      '{"password": null}',
      // Flags that name a keyword without taking a secret: a longer word, a count, a kind, a
      // boolean switch (the next word is an argument), a file or stdin to read the secret from.
      "train --tokenizer bpe --max-tokens 256 --token-type bearer",
      "psql --no-password mydb",
      "docker login --password-stdin registry.example.com",
      "vault read --password-file /run/secrets/db --show-secret yes",
      "pass `--token` to log in",
      // -u without curl (sudo, docker), or curl's -u without a password (curl asks for it).
      "sudo -u alice ls; docker run -u 1000:1000 app; docker exec -u root:root app sh",
      "curl -u alice https://api.example.com",
      // pass inside a word, after a lower-case letter, or naming a count, a rate, a threshold; a
      // bare `pass:` after a word on its line, before an unquoted word (prose); JSON booleans and
      // numbers.
      "bypass=1 compass=north passage=long passport=X1 BYPASS=1 Bypass=2",
      "pass_rate=0.9 pass_threshold: 0.7 pass_count: 3",
      "first pass: we check the draft. Second pass: fix the tone",
      '{"pass": true, "score": 0.8}',
      '{"pass": 12, "fail": 0}',
      // pass as an evaluation's verdict in code: a ternary, a member, a call, a type, a number.
      'const pass = r.pass ?? passOf(r); result: pass ? "pass" : "fail"; pass: boolean; if (pass === 2) n++;',
      // A comparison with a type's name or a variable; None and undefined are no secret.
      'typeof config.password === "string" && config.token !== undefined',
      "Config(password=None, token=undefined)",
      // pwd naming a directory: the shell's PWD and OLDPWD, docker's -v $PWD:/app.
      "PWD=/home/app OLDPWD=/srv/app",
      "docker run -v $PWD:/app -w /app img",
      "Run `PWD=/srv/app make` or `docker run -v $PWD:/app img`.",
      // Authorization with no secret after it.
      "Authorization: required. Authorization: Token <your-token>",
      // XML elements that say something about a secret, a longer word, an empty or self-closing one.
      "<passwordPolicy>strict</passwordPolicy><password_hint>my dog</password_hint>",
      "<maxTokens>100</maxTokens><tokenizer>bpe</tokenizer><secretary>Bob</secretary><password/><token></token>",
      // Name/value pairs whose name says something about a secret, or is no secret; an empty or a
      // number value.
      '{"name": "password_hint", "value": "my dog"}',
      '{"name": "token_count", "value": 12}',
      '{"name": "username", "value": "bob"}',
      '{"name": "password", "value": ""}',
      '{"name": "token", "value": 12}',
      // Environment variables that are no secret.
      'os.environ["TOKEN_COUNT"] = "3"; os.environ["HOME"] = "/root"',
      // pass as a test's or a judge's verdict, a counter, a variable, a label, a field of a longer
      // name, a plain word in JSON: only a query string's, an *_PASS variable's, OpenSSL's, a YAML
      // line's or a quoted secret-looking value is masked.
      "PASS: tests/test-parse\nPASS: LLVM :: CodeGen/X86/add.ll (1 of 120)\nFAIL: tests/test-io",
      "PASS: The answer cites the correct section.",
      "- **Pass:** 4/5\n**Pass:** the draft meets every criterion.",
      '<label for="pass">Pass:</label><input id="pass">',
      "PASS=0\nFAIL=0\nPASS=$((PASS+1))\nTEST_PASS=1",
      "const pass = received === expected; let pass = 0, fail = 0;",
      "pass := score > 0.5",
      "const result = { firstPass: draft, secondPass: revised };",
      '{"pass": "yes", "reason": "ok"}',
      "exports.TEST_CASE_RESULT_STATUS_VALUE_PASS = attrs.TEST_CASE_RESULT_STATUS_VALUE_PASS;",
      // A flag's metavar in help text, a word of prose after a flag, tokenizers' special tokens.
      "Options:\n  --api-key TEXT   API key\n  --token TEXT     Access token",
      "Flags:\n  -p, --password string   Password\n      --token string      Bearer token",
      "usage: cli.py [-h] [--token TOKEN] [--api-key API_KEY] [--secret <secret>]",
      "You can pass the --api-key flag instead. Pass --token or set GITHUB_TOKEN. Use --password and --user.",
      "| --token | string | Auth token |",
      "vllm serve m --eos-token '</s>' --pad-token '<pad>' --bos-token '<s>' --unk-token '<unk>'",
      "train --sep-token '[SEP]' --cls-token '[CLS]' --mask-token '[MASK]'",
      // An element or a name/value pair whose text is a plain word, not a secret's shape.
      "Answer with <token>yes</token> or <token>no</token>. <tokens><token>Hello</token></tokens>",
      '{"name":"token","value":"Hello"}',
      '<input type="hidden" name="csrf_token" value="Submit">',
      `authHeader = { name: "x-api-key", value: \`\${this.apiKey}\` };`,
      // An Authorization scheme's name followed by prose.
      "Authorization: Token authentication is enabled by default.",
      "Authorization: OAuth authentication via the provider. Authorization: Bot accounts must use it.",
      // The word curl in prose, not the command.
      "Install curl first, then run docker run -u 1000:1000 img",
      // A compiled TypeScript enum: a number after a subscript; a variable after one.
      'SyntaxKind[SyntaxKind["OpenBraceToken"] = 18] = "OpenBraceToken";',
      'headers["x-api-key"] = apiKey;',
      // A parser comparing a token with a short literal: no secret's shape.
      'if (token === "[DONE]") break; if token == " ": continue; if (token !== "\\n") flush();',
    ])
      expect(redactSecrets(text, "error.message")).toBe(text);
  });

  it("keep JSON valid and whole: a string ending in a key and its separator, a number, XML tags in different strings", () => {
    const objects: unknown[] = [
      { login_url: "https://mail.example.com/login?user=alice&pass=", method: "GET" },
      { login_url: "https://mail.example.com/login?user=alice&password=", method: "GET" },
      { labels: { ok: "Pass: ", ko: "Fail: " } },
      ["PASS: ", 3, "FAIL: ", 1],
      { argv_prefix: "mysql -u root --password ", host: "db" },
      [{ delta: "gh auth login --token " }, { delta: "more" }],
      { code: "if token == ", rhs: "'x'" },
      { code: "export SMTP_PASS=", next: "x" },
      { pass: 1e-7, score: 0.99 },
      { name: "token_lr", value: 1e-7 },
      { name: "max_secret_bytes", value: 1e21 },
      { model: "gpt-4o", messages: [{ role: "user", content: "Reply inside <passphrase>" }], stop: ["</passphrase>"] },
      { tags: { open: "<secret>" }, close: "</secret>" },
    ];
    for (const obj of objects) {
      const json = JSON.stringify(obj);
      for (const text of [json, JSON.stringify(json)])
        expect([text, redactSecrets(text, "gen_ai.tool.call.arguments")]).toEqual([text, text]);
    }
  });
});
