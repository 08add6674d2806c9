/* libFuzzer target for the document loaders. Built twice: as fuzz-yaml
 * (FUZZ_YAML) and as fuzz-json. Each input is parsed, the tree walked
 * (so a bad pointer in it is found here, not by a later caller), and the
 * diagnostics formatted. */
#include <stdint.h>
#include <stdio.h>

#include "sluice/doc.h"

static size_t walk(const sluice_node *n, unsigned depth)
{
	size_t c = 1;
	if (!n || depth > 100000)
		return 0;
	if (n->kind == SLUICE_NODE_MAP)
		for (size_t i = 0; i < n->count; i++)
			c += walk(n->pairs[i].value, depth + 1) + (n->pairs[i].key[0] != 0);
	else if (n->kind == SLUICE_NODE_SEQ)
		for (size_t i = 0; i < n->count; i++)
			c += walk(n->items[i], depth + 1);
	else if (n->text)
		c += n->text[n->text_len] == '\0';
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	sluice_diags d;
	sluice_doc *doc = NULL;
	/* small limits keep each run fast while still reaching every check */
	sluice_doc_limits lim = {1u << 20, 32, 20000};

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	sluice_diags_init(&d);
#ifdef FUZZ_YAML
	sluice_doc_parse_yaml(&doc, "fuzz.yaml", (const char *)data, size, &lim, &d);
#else
	sluice_doc_parse_json(&doc, "fuzz.json", (const char *)data, size, &lim, &d);
#endif
	if (doc)
		(void)walk(doc->root, 0);
	sluice_diags_print_text(&d, devnull);
	sluice_doc_free(doc);
	sluice_diags_clear(&d);
	return 0;
}
