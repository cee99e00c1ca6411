/* SPDX-License-Identifier: MIT
 * gov_classify.h — administrators' classification overrides of memory documents.
 *
 * Detectors can only raise a level; an administrator may set a document's level either way,
 * with a mandatory reason, audited before it applies, and gov_act then decides actions on that
 * document with it. Reading needs classification:read or access to the document's channel;
 * changing needs classification:write; both only inside namespaces the caller reaches.
 * Each returns GW_OK with *item the document's classification ({"item","source","level",...}),
 * or GW_EINVAL / GW_EFORBIDDEN / GW_ENOTFOUND / GW_EAUDIT / GW_ESTORE with msg.
 */
#ifndef GW_GOV_CLASSIFY_H
#define GW_GOV_CLASSIFY_H

#include "gov/gov.h"

gw_err gov_classification_get(struct gov_call *gc, const char *ns, const char *agent, json_t **item,
                              char *msg, size_t cap);
gw_err gov_classification_set(struct gov_call *gc, const char *ns, const char *agent,
                              const char *level, const char *reason, json_t **item, char *msg,
                              size_t cap);
gw_err gov_classification_clear(struct gov_call *gc, const char *ns, const char *agent,
                                const char *reason, json_t **item, char *msg, size_t cap);

#endif
