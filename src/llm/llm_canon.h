/* SPDX-License-Identifier: MIT
 * llm_canon.h — checking a client's chat request before anything acts on it.
 *
 * The proxy accepts the OpenAI chat-completions request as the canonical shape (llm_wire.h).
 * A request is refused with a message naming the field when its shape is wrong or a
 * client-controlled count exceeds its bound; fields the gateway does not interpret are passed
 * to OpenAI-compatible providers unchanged.
 */
#ifndef GW_LLM_CANON_H
#define GW_LLM_CANON_H

#include "base/prelude.h"
#include "base/buf.h"
#include "base/err.h"

#include <jansson.h>

#define LLM_MAX_MESSAGES 2048
#define LLM_MAX_TOOLS 128
#define LLM_MAX_MODEL_ID 256

/* GW_EINVAL with the reason in msg when req is not an acceptable chat request. */
gw_err llm_canon_check(const json_t *req, char *msg, size_t cap);
/* Appends the text of every message (string contents and text parts, tool arguments) to out,
 * for the classifiers; stops silently at out's bound. */
void llm_canon_text(const json_t *req, struct gw_buf *out);

/* Masks what the classifiers find (e-mail addresses, phone numbers, card numbers, national
 * ids, API keys, private keys) in every message text with "[REDACTED:<detector>]": the
 * policy's redact obligation before data leaves for an external provider. Returns the number
 * of findings masked. */
size_t llm_canon_redact(json_t *req);

#endif
