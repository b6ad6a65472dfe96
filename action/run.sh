#!/usr/bin/env bash
# Step 2 of action.yml: run `ocx exec` with the action's inputs (INPUT_* in the environment) and
# write final-message, output-file, exit-code and codex-home to $GITHUB_OUTPUT. The prompt goes
# in on stdin and the key in the environment (CODEX_API_KEY), never on the command line.
set -uo pipefail
fail() { echo "::error::ocx action: $*" >&2; exit 1; }

ocx="${OCX_BIN:?OCX_BIN is not set (the install step sets it)}"
# Paths in inputs are relative to the step's directory (the workspace), also with working-directory.
abs() { if [[ -z "$1" || "$1" == /* ]]; then printf '%s' "$1"; else printf '%s/%s' "$PWD" "$1"; fi; }
INPUT_PROMPT_FILE="$(abs "${INPUT_PROMPT_FILE:-}")"
INPUT_OUTPUT_FILE="$(abs "${INPUT_OUTPUT_FILE:-}")"
INPUT_OUTPUT_SCHEMA_FILE="$(abs "${INPUT_OUTPUT_SCHEMA_FILE:-}")"
[[ "$ocx" == */* ]] && ocx="$(abs "$ocx")"
[[ -n "${INPUT_PROMPT:-}" && -n "${INPUT_PROMPT_FILE:-}" ]] && fail "set prompt or prompt-file, not both"
[[ -z "${INPUT_PROMPT:-}" && -z "${INPUT_PROMPT_FILE:-}" ]] && fail "set prompt or prompt-file"
[[ -z "${INPUT_PROMPT_FILE:-}" || -f "$INPUT_PROMPT_FILE" ]] || fail "prompt-file $INPUT_PROMPT_FILE does not exist"

out="${INPUT_OUTPUT_FILE:-}"
[[ -n "$out" ]] || out="${RUNNER_TEMP:?RUNNER_TEMP is not set}/ocx-final-message.txt"
args=(exec --sandbox "${INPUT_SANDBOX:-workspace-write}" -o "$out")
[[ -n "${INPUT_MODEL:-}" ]] && args+=(-m "$INPUT_MODEL")
[[ -n "${INPUT_OUTPUT_SCHEMA_FILE:-}" ]] && args+=(--output-schema "$INPUT_OUTPUT_SCHEMA_FILE")
[[ -n "${INPUT_MAX_TURNS:-}" ]] && args+=(--max-turns "$INPUT_MAX_TURNS")
[[ -n "${INPUT_MAX_TOOL_CALLS:-}" ]] && args+=(--max-tool-calls "$INPUT_MAX_TOOL_CALLS")
[[ -n "${INPUT_MAX_TOKENS:-}" ]] && args+=(--max-tokens "$INPUT_MAX_TOKENS")
[[ -n "${INPUT_MAX_COST_USD:-}" ]] && args+=(--max-cost-usd "$INPUT_MAX_COST_USD")
while IFS= read -r line; do
  line="${line%$'\r'}"
  [[ -n "$line" ]] && args+=("$line")
done <<< "${INPUT_OCX_ARGS:-}"
args+=(-)

if [[ -n "${INPUT_OPENAI_API_KEY:-}" ]]; then
  echo "::add-mask::$INPUT_OPENAI_API_KEY"
  export CODEX_API_KEY="$INPUT_OPENAI_API_KEY"
fi
unset INPUT_OPENAI_API_KEY
[[ -n "${INPUT_CODEX_HOME:-}" ]] && export CODEX_HOME="$INPUT_CODEX_HOME"
home="${CODEX_HOME:-$HOME/.codex}"

if [[ -n "${INPUT_WORKING_DIRECTORY:-}" ]]; then cd "$INPUT_WORKING_DIRECTORY" || fail "working-directory $INPUT_WORKING_DIRECTORY does not exist"; fi
mkdir -p "$(dirname "$out")"
rm -f "$out"
if [[ -n "${INPUT_PROMPT_FILE:-}" ]]; then
  "$ocx" "${args[@]}" < "$INPUT_PROMPT_FILE"
else
  printf '%s' "$INPUT_PROMPT" | "$ocx" "${args[@]}"
fi
code=$?

delim="ocx_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
{
  echo "exit-code=$code"
  echo "output-file=$out"
  echo "codex-home=$home"
  echo "final-message<<$delim"
  [[ -f "$out" ]] && cat "$out"
  echo
  echo "$delim"
} >> "$GITHUB_OUTPUT"
exit "$code"
