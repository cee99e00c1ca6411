/* SPDX-License-Identifier: MIT
 * xml.h — reading untrusted XML (SAML messages, IdP metadata) with libxml2, one way only.
 *
 * gw_xml_parse refuses any document with a DOCTYPE (so no entity is ever defined or expanded:
 * no XXE, no entity expansion bombs), never touches the network, keeps libxml2's own limits on
 * depth and text size, and reports errors in a message instead of on stderr. The helpers below
 * compare elements by namespace URI and local name, never by prefix.
 */
#ifndef GW_XML_H
#define GW_XML_H

#include "base/prelude.h"

#include <libxml/tree.h>

/* A document from untrusted bytes (at most len bytes; the caller bounds len). NULL with the
 * reason in msg: malformed, or a DOCTYPE present. Free with xmlFreeDoc. */
xmlDoc *gw_xml_parse(const char *data, size_t len, char *msg, size_t msgcap);

/* Is n an element with this namespace URI and local name? */
bool gw_xml_is(const xmlNode *n, const char *ns, const char *name);
/* The first child element of n that gw_xml_is(ns, name), or NULL. */
xmlNode *gw_xml_child(const xmlNode *n, const char *ns, const char *name);
/* The next sibling element after n with the same namespace URI and local name, or NULL. */
xmlNode *gw_xml_next(const xmlNode *n);
/* An attribute without namespace (borrowed from the tree), or NULL. */
const char *gw_xml_attr(const xmlNode *n, const char *name);
/* The text content of an element (malloc'd; the caller frees it), or NULL when it has element
 * children or its text is interrupted by anything but text and CDATA. */
char *gw_xml_text(const xmlNode *n);

#endif
