/* Replays the committed fuzz corpus through both loaders in the normal
 * (ASan+UBSan) test build, so `make test` catches a regression on any
 * input the fuzzers once found interesting, without needing clang.
 * Also checks the loaders' contract on every input: an error diagnostic
 * means a negative return and no tree; success means no error reported.
 * Usage: fuzz-replay CORPUS_DIR... (each holding yaml/ and json/ or files) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sluice/doc.h"
#include "sluice/util.h"

static size_t walk(const sluice_node *n)
{
	size_t c = 1;
	if (n->kind == SLUICE_NODE_MAP)
		for (size_t i = 0; i < n->count; i++)
			c += walk(n->pairs[i].value) + (strlen(n->pairs[i].key) > 0);
	else if (n->kind == SLUICE_NODE_SEQ)
		for (size_t i = 0; i < n->count; i++)
			c += walk(n->items[i]);
	return c;
}

static int check(const char *path, const char *data, size_t len, bool yaml,
		 const sluice_doc_limits *lim)
{
	sluice_diags d;
	sluice_doc *doc = NULL;
	int rc, bad = 0;

	sluice_diags_init(&d);
	rc = yaml ? sluice_doc_parse_yaml(&doc, path, data, len, lim, &d)
		  : sluice_doc_parse_json(&doc, path, data, len, lim, &d);
	if (rc == 0 && d.errors) {
		fprintf(stderr, "%s (%s): returned 0 with %zu errors\n", path, yaml ? "yaml" : "json",
			d.errors);
		bad = 1;
	}
	if (rc < 0 && (!d.errors || doc->root)) {
		fprintf(stderr, "%s (%s): returned %d with %zu errors and %s tree\n", path,
			yaml ? "yaml" : "json", rc, d.errors, doc->root ? "a" : "no");
		bad = 1;
	}
	if (doc->root)
		(void)walk(doc->root);
	sluice_doc_free(doc);
	sluice_diags_clear(&d);
	return bad;
}

static int replay_dir(const char *dir, size_t *files)
{
	DIR *dh = opendir(dir);
	int bad = 0;
	sluice_doc_limits small = {1u << 20, 32, 20000};

	if (!dh) {
		perror(dir);
		return 1;
	}
	for (struct dirent *e; (e = readdir(dh));) {
		if (e->d_name[0] == '.')
			continue;
		char *path = sluice_path_join(dir, e->d_name);
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			bad |= replay_dir(path, files);
		} else {
			char *data;
			size_t len;
			if (sluice_file_read(&data, &len, path, 64u << 20) == 0) {
				bad |= check(path, data, len, true, NULL);
				bad |= check(path, data, len, false, NULL);
				bad |= check(path, data, len, true, &small);
				bad |= check(path, data, len, false, &small);
				free(data);
				(*files)++;
			}
		}
		free(path);
	}
	closedir(dh);
	return bad;
}

int main(int argc, char **argv)
{
	size_t files = 0;
	int bad = 0;
	for (int i = 1; i < argc; i++)
		bad |= replay_dir(argv[i], &files);
	printf("replayed %zu files through both loaders\n", files);
	if (!files)
		bad = 1;
	return bad;
}
