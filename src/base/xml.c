/* SPDX-License-Identifier: MIT
 * xml.c — the strict libxml2 reader shared by the SAML service provider and the configuration
 * (IdP metadata). libxml2's defaults already leave entities unexpanded and external DTDs
 * unloaded; on top of that a DOCTYPE is refused outright, the network is off and the parser's
 * errors become a message (its generic error handler would print to stderr, shared by every
 * thread).
 */
#include "base/prelude.h"
#include "base/xml.h"
#include "base/mem.h"

#include <libxml/parser.h>

xmlDoc *gw_xml_parse(const char *data, size_t len, char *msg, size_t msgcap)
{
    if (len == 0 || len > INT32_MAX) {
        snprintf(msg, msgcap, "empty or oversized XML document");
        return NULL;
    }
    xmlParserCtxt *ctx = xmlNewParserCtxt();
    if (!ctx) {
        snprintf(msg, msgcap, "cannot create an XML parser");
        return NULL;
    }
    xmlDoc *doc = xmlCtxtReadMemory(ctx, data, (int)len, NULL, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *e = xmlCtxtGetLastError(ctx);
        char why[120] = "malformed";
        if (e && e->message) {
            snprintf(why, sizeof(why), "%s", e->message);
            why[strcspn(why, "\r\n")] = '\0';
        }
        snprintf(msg, msgcap, "not well-formed XML (line %d: %s)", e ? e->line : 0, why);
    } else if (doc->intSubset || doc->extSubset) {
        snprintf(msg, msgcap,
                 "XML with a DOCTYPE is refused (DTDs and entities are never "
                 "accepted: XXE)");
        xmlFreeDoc(doc);
        doc = NULL;
    } else if (!xmlDocGetRootElement(doc)) {
        snprintf(msg, msgcap, "XML document without a root element");
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctx);
    return doc;
}

bool gw_xml_is(const xmlNode *n, const char *ns, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

xmlNode *gw_xml_child(const xmlNode *n, const char *ns, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (gw_xml_is(c, ns, name))
            return c;
    return NULL;
}

xmlNode *gw_xml_next(const xmlNode *n)
{
    for (xmlNode *c = n->next; c; c = c->next)
        if (gw_xml_is(c, (const char *)n->ns->href, (const char *)n->name))
            return c;
    return NULL;
}

const char *gw_xml_attr(const xmlNode *n, const char *name)
{
    for (xmlAttr *a = n ? n->properties : NULL; a; a = a->next)
        if (!a->ns && strcmp((const char *)a->name, name) == 0 && a->children &&
            a->children->type == XML_TEXT_NODE && !a->children->next)
            return (const char *)a->children->content;
    return NULL;
}

char *gw_xml_text(const xmlNode *n)
{
    size_t len = 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
            return NULL;
        len += strlen((const char *)c->content);
    }
    char *out = gw_xmalloc(len + 1), *p = out;
    for (const xmlNode *c = n->children; c; c = c->next) {
        size_t l = strlen((const char *)c->content);
        memcpy(p, c->content, l);
        p += l;
    }
    *p = '\0';
    return out;
}
