/** Secret redaction for records, config texts and free text; see `redact/` for the parts. */
export { isSecretKey, keyWords } from '../secrets/keys.ts';
export { maskUrlCredentials, REDACTED, redactString } from '../secrets/shapes.ts';
export { MIN_SCRUB_LENGTH, redactCollect, redactValues, scrubSecrets, scrubText, type Redacted } from './redact/values.ts';
export { redactConfigText, type ConfigSyntax, type RedactedConfigText } from './redact/config-text.ts';
