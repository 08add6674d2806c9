/* Git sources: bare mirrors of plugin repositories' tags, fetched only
 * when the remote's tags differ from the mirror's. */
/* nftw */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "sluice/error.h"
#include "sluice/source.h"
#include "sluice/util.h"
#include "source-internal.h"

#define TAGS_PREFIX "refs/tags/"
#define TAGS_PREFIX_LEN (sizeof TAGS_PREFIX - 1)
#define MAX_TOKEN_BYTES 4096
/* A tag or commit object larger than this is no release: it is never
 * loaded (a tag pointing at a huge object must not cost its size in RAM). */
#define MAX_META_OBJECT_BYTES (1024u * 1024u)
#define MAX_PEEL_DEPTH 8

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
#ifdef SLUICE_HAVE_PACK_MAX_OBJECT_SIZE
static pthread_mutex_t opts_lock = PTHREAD_MUTEX_INITIALIZER;
#endif
static int init_rc;

/* libgit2's defaults on 64-bit map pack windows of 1 GiB up to 8 GiB in
 * all and cache 256 MiB of objects; every mapped page read counts in the
 * resident set. Sluice reads a few small files per release, so small
 * windows and a small cache keep a big fetch well under 100 MB
 * (docs/sources.md). */
#define MWINDOW_SIZE (8u * 1024u * 1024u)
#define MWINDOW_MAPPED_LIMIT (32u * 1024u * 1024u)
#define CACHE_MAX_BYTES (16 * 1024 * 1024)

static void do_init(void)
{
	init_rc = git_libgit2_init() < 0 ? SLUICE_EGIT : 0;
	if (init_rc == 0 &&
	    (git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)MWINDOW_SIZE) < 0 ||
	     git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)MWINDOW_MAPPED_LIMIT) < 0 ||
	     git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)CACHE_MAX_BYTES) < 0))
		init_rc = SLUICE_EGIT;
}

int sluice_source_init(void)
{
	pthread_once(&init_once, do_init);
	if (init_rc < 0)
		return sluice_error_set(SLUICE_EGIT, "cannot initialise libgit2");
	return 0;
}

static const char *git_msg(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

char *sluice_source_redact_url(const char *text)
{
	sluice_buf b = SLUICE_BUF_INIT;
	const char *p = text, *sep;

	if (!text)
		return NULL;
	while ((sep = strstr(p, "://"))) {
		/* The authority ends where the path, query or fragment starts
		 * (a '/', '?' or '#' cannot be in a password unescaped, so
		 * libgit2 would not send what follows one as a password
		 * either), or where the URL ends inside a message. Its last
		 * '@' ends the user information. */
		const char *host = sep + 3, *at = NULL;
		size_t n = strcspn(host, "/?#'\"<>` \t\r\n");
		for (const char *q = host; q < host + n; q++)
			if (*q == '@')
				at = q;
		sluice_buf_put(&b, p, (size_t)(host - p));
		if (at)
			sluice_buf_puts(&b, "***");
		p = at ? at : host;
	}
	sluice_buf_puts(&b, p);
	return sluice_buf_detach(&b);
}

int sluice_source_set_ca_bundle(const char *path)
{
	int rc = sluice_source_init();
	if (rc < 0)
		return rc;
	if (access(path, R_OK) != 0)
		return sluice_error_set(SLUICE_ENOTFOUND,
					"cannot read the CA bundle '%s' (repositories.ca_bundle): %s",
					path, strerror(errno));
	if (git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, path, NULL) < 0)
		return sluice_error_set(SLUICE_EGIT, "cannot use the CA bundle '%s': %s", path,
					git_msg());
	return 0;
}

static bool is_loopback_http(const char *url)
{
	static const char *const hosts[] = {"http://127.0.0.1", "http://localhost",
					    "http://[::1]", NULL};
	for (const char *const *h = hosts; *h; h++) {
		size_t n = strlen(*h);
		if (strncmp(url, *h, n) == 0 && (url[n] == ':' || url[n] == '/' || !url[n]))
			return true;
	}
	return false;
}

/* scp-like "user@host:path": a ':' before any '/' and no "://". */
static bool is_scp_like(const char *url)
{
	const char *colon = strchr(url, ':');
	const char *slash = strchr(url, '/');
	return colon && colon != url && (!slash || colon < slash) && !strstr(url, "://");
}

int sluice_source_check_url(const char *url)
{
	int feat;
	if (sluice_source_init() < 0)
		return SLUICE_EGIT;
	feat = git_libgit2_features();
	if (!url || !*url)
		return sluice_error_set(SLUICE_EINVAL, "empty repository URL");
	if (sluice_str_has_prefix(url, "file://") || url[0] == '/' ||
	    sluice_str_has_prefix(url, "./") || sluice_str_has_prefix(url, "../"))
		return 0;
	if (sluice_str_has_prefix(url, "https://")) {
		if (!(feat & GIT_FEATURE_HTTPS))
			return sluice_error_set(SLUICE_EINVAL,
						"this sluice is linked with a libgit2 built without https "
						"support; use a file:// or ssh URL, or rebuild libgit2 with TLS");
		return 0;
	}
	if (sluice_str_has_prefix(url, "http://")) {
		if (is_loopback_http(url))
			return 0;
		char *r = sluice_source_redact_url(url);
		sluice_error_set(SLUICE_EINVAL,
				 "plain http is not allowed for repository '%s'; use an https URL", r);
		free(r);
		return SLUICE_EINVAL;
	}
	if (sluice_str_has_prefix(url, "ssh://") || sluice_str_has_prefix(url, "git+ssh://") ||
	    sluice_str_has_prefix(url, "ssh+git://") || is_scp_like(url)) {
		if (!(feat & GIT_FEATURE_SSH))
			return sluice_error_set(SLUICE_EINVAL,
						"this sluice is linked with a libgit2 built without ssh "
						"support (libssh2); use an https or file:// URL");
		return 0;
	}
	if (strstr(url, "://")) {
		char *r = sluice_source_redact_url(url);
		sluice_error_set(SLUICE_EINVAL,
				 "unsupported repository URL '%s'; use a path, file://, https:// or ssh://",
				 r);
		free(r);
		return SLUICE_EINVAL;
	}
	/* A relative path without ./ */
	return 0;
}

/* ---- mirror names ------------------------------------------------------ */

#define MAX_MIRROR_NAME 200

char *sluice_source_mirror_name(const char *key)
{
	sluice_buf b = SLUICE_BUF_INIT;
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		unsigned char ch = *p;
		bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
			    (ch == '.' && p != (const unsigned char *)key);
		if (keep)
			sluice_buf_put(&b, p, 1);
		else if (ch == '/')
			sluice_buf_puts(&b, "+");
		else {
			char esc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			sluice_buf_put(&b, esc, 3);
		}
	}
	if (b.len == 0)
		sluice_buf_puts(&b, "%");
	if (b.len > MAX_MIRROR_NAME) {
		/* Keep the name readable and unique: a prefix and a hash of the key. */
		git_oid oid;
		char hexid[GIT_OID_HEXSZ + 1];
		git_odb_hash(&oid, key, strlen(key), GIT_OBJECT_BLOB);
		git_oid_tostr(hexid, sizeof hexid, &oid);
		b.len = MAX_MIRROR_NAME - 41;
		while (b.len && b.ptr[b.len - 1] == '%')
			b.len--;
		b.ptr[b.len] = '\0';
		sluice_buf_printf(&b, "~%s", hexid);
	}
	sluice_buf_puts(&b, ".git");
	return sluice_buf_detach(&b);
}

char *sluice_source_mirror_path(const char *cache_dir, const char *key)
{
	char *name = sluice_source_mirror_name(key);
	char *path = sluice_path_join(cache_dir, name);
	free(name);
	return path;
}

/* ---- small helpers ----------------------------------------------------- */

typedef struct {
	char **v;
	size_t n, cap;
} strv;

static void strv_push(strv *s, const char *str)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = sluice_xrealloc(s->v, s->cap * sizeof(char *));
	}
	s->v[s->n++] = sluice_xstrdup(str);
	s->v[s->n] = NULL;
}

/* Always returns a NULL-terminated array, possibly empty. */
static char **strv_detach(strv *s)
{
	char **v = s->v ? s->v : sluice_xcalloc(1, sizeof(char *));
	s->v = NULL;
	s->n = s->cap = 0;
	return v;
}

static void strv_free_raw(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* name -> oid pairs of tags, sorted by name. */
typedef struct {
	char *name; /* without refs/tags/ */
	git_oid oid;
} tagref;

typedef struct {
	tagref *items;
	size_t count, cap;
} tagrefs;

static void tagrefs_add(tagrefs *t, const char *name, const git_oid *oid)
{
	if (t->count == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->items = sluice_xrealloc(t->items, t->cap * sizeof(tagref));
	}
	t->items[t->count].name = sluice_xstrdup(name);
	git_oid_cpy(&t->items[t->count].oid, oid);
	t->count++;
}

static int tagref_cmp(const void *a, const void *b)
{
	return strcmp(((const tagref *)a)->name, ((const tagref *)b)->name);
}

static void tagrefs_clear(tagrefs *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->items[i].name);
	free(t->items);
	memset(t, 0, sizeof *t);
}

/* The mirror's refs/tags/ *, sorted. */
static int local_tags(tagrefs *out, git_repository *repo)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	int rc = 0, err;

	if (git_reference_iterator_glob_new(&it, repo, TAGS_PREFIX "*") < 0)
		return sluice_error_set(SLUICE_EGIT, "cannot list the mirror's tags: %s", git_msg());
	while ((err = git_reference_next(&ref, it)) == 0) {
		const git_oid *oid = git_reference_target(ref);
		if (oid)
			tagrefs_add(out, git_reference_name(ref) + TAGS_PREFIX_LEN, oid);
		git_reference_free(ref);
	}
	if (err != GIT_ITEROVER)
		rc = sluice_error_set(SLUICE_EGIT, "cannot list the mirror's tags: %s", git_msg());
	git_reference_iterator_free(it);
	if (out->count > 1)
		qsort(out->items, out->count, sizeof(tagref), tagref_cmp);
	return rc;
}

/* Opens a mirror and checks that every tag's object can be read, so a
 * truncated pack or a lost object directory is found before it is
 * trusted. On failure *why says what is wrong. */
static int mirror_open(git_repository **out, const char *path, char **why)
{
	git_repository *repo = NULL;
	git_odb *odb = NULL;
	tagrefs tags = {0};
	int rc = 0;

	*out = NULL;
	if (git_repository_open_ext(&repo, path,
				    GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
				    NULL) < 0) {
		*why = sluice_xasprintf("cannot open it: %s", git_msg());
		rc = SLUICE_EGIT;
		goto done;
	}
	if (git_repository_odb(&odb, repo) < 0 || local_tags(&tags, repo) < 0) {
		*why = sluice_xasprintf("cannot read it: %s", git_msg());
		rc = SLUICE_EGIT;
		goto done;
	}
	for (size_t i = 0; i < tags.count; i++) {
		size_t size;
		git_object_t type;
		if (git_odb_read_header(&size, &type, odb, &tags.items[i].oid) < 0) {
			*why = sluice_xasprintf("cannot read tag '%s': %s", tags.items[i].name,
						git_msg());
			rc = SLUICE_EGIT;
			goto done;
		}
	}
	*out = repo;
	repo = NULL;
done:
	tagrefs_clear(&tags);
	git_odb_free(odb);
	git_repository_free(repo);
	return rc;
}

/* ---- credentials ------------------------------------------------------- */

typedef struct {
	const sluice_fetch_opts *opts;
	const char *key;
	uint64_t max_bytes;
	bool tried_token, tried_agent, tried_user;
	bool over_limit; /* stopped by max_bytes */
	size_t stopped_at;
	strv *notes;
	sluice__local_ctx local;
	char err[256];
} fetch_state;

static void wipe(char *s, size_t n)
{
	volatile char *p = s;
	while (n--)
		*p++ = 0;
}

int sluice_source_token(char **out, const sluice_fetch_opts *o)
{
	*out = NULL;
	if (o && o->credentials_env) {
		const char *v = getenv(o->credentials_env);
		if (!v || !*v)
			return sluice_error_set(SLUICE_ENOTFOUND,
						"credentials_env names $%s, which is not set",
						o->credentials_env);
		*out = sluice_xstrdup(v);
		return 0;
	}
	if (o && o->credentials_file) {
		char *data = NULL;
		size_t len = 0;
		if (sluice_file_read(&data, &len, o->credentials_file, MAX_TOKEN_BYTES) < 0)
			return sluice_error_set(SLUICE_ENOTFOUND, "cannot read credentials_file '%s'",
						o->credentials_file);
		size_t n = strcspn(data, "\r\n");
		data[n] = '\0';
		if (n == 0) {
			free(data);
			return sluice_error_set(SLUICE_ENOTFOUND, "credentials_file '%s' is empty",
						o->credentials_file);
		}
		*out = data;
	}
	return 0;
}

/* The token for libgit2's credential callback; a missing one leaves the
 * reason in st->err for the authentication failure that follows. */
static char *read_token(fetch_state *st)
{
	char *token = NULL;
	if (sluice_source_token(&token, st->opts) < 0) {
		snprintf(st->err, sizeof st->err, "%s", sluice_error_last());
		sluice_error_clear();
	}
	return token;
}

static int credentials_cb(git_credential **out, const char *url, const char *user_from_url,
			  unsigned int allowed, void *payload)
{
	fetch_state *st = payload;
	(void)url;

	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !st->tried_token) {
		st->tried_token = true;
		char *token = read_token(st);
		if (token) {
			int rc = git_credential_userpass_plaintext_new(out, "x-access-token", token);
			wipe(token, strlen(token));
			free(token);
			return rc;
		}
	}
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && !st->tried_agent) {
		st->tried_agent = true;
		return git_credential_ssh_key_from_agent(out, user_from_url ? user_from_url : "git");
	}
	if ((allowed & GIT_CREDENTIAL_USERNAME) && !st->tried_user) {
		st->tried_user = true;
		return git_credential_username_new(out, user_from_url ? user_from_url : "git");
	}
	if (!st->err[0])
		snprintf(st->err, sizeof st->err,
			 "authentication failed; set credentials_env or credentials_file for "
			 "this plugin, or load a key into the ssh agent");
	git_error_set_str(GIT_ERROR_NET, st->err);
	return GIT_EAUTH;
}

static int transfer_cb(const git_indexer_progress *stats, void *payload)
{
	fetch_state *st = payload;
	/* A non-zero return stops the download: the partial pack is dropped
	 * and the mirror stays as it was. */
	if (st->max_bytes && stats->received_bytes > st->max_bytes) {
		st->over_limit = true;
		st->stopped_at = stats->received_bytes;
		git_error_set_str(GIT_ERROR_NET, "the download exceeds repositories.max_fetch_bytes");
		return -1;
	}
	if (st->opts && st->opts->progress) {
		sluice_fetch_progress p = {st->key, stats->received_objects, stats->total_objects,
					   stats->received_bytes};
		st->opts->progress(st->opts->payload, &p);
	}
	return 0;
}

static void local_note(void *ctx, const char *note)
{
	fetch_state *st = ctx;
	strv_push(st->notes, note);
}

static int transport_cb(git_transport **out, git_remote *owner, void *payload)
{
	fetch_state *st = payload;
	return sluice__local_transport(out, owner, &st->local);
}

/* ---- fetch ------------------------------------------------------------- */

const char *sluice_fetch_status_name(sluice_fetch_status s)
{
	switch (s) {
	case SLUICE_FETCH_UNCHANGED:
		return "unchanged";
	case SLUICE_FETCH_FETCHED:
		return "fetched";
	case SLUICE_FETCH_CLONED:
		return "cloned";
	default:
		return "error";
	}
}

void sluice_fetch_result_init(sluice_fetch_result *r)
{
	memset(r, 0, sizeof *r);
}

void sluice_fetch_result_clear(sluice_fetch_result *r)
{
	if (!r)
		return;
	strv_free_raw(r->new_tags);
	strv_free_raw(r->moved_tags);
	strv_free_raw(r->deleted_tags);
	strv_free_raw(r->notes);
	free(r->warning);
	memset(r, 0, sizeof *r);
}

/* Adds one advertised ref to the remote's tags. Peeled "^{}" entries are
 * skipped; so is a name git would refuse, with a note in `notes` (its
 * control characters escaped): one bad ref must not cost the others. */
static void remote_tag_add(tagrefs *out, strv *notes, const char *name, const git_oid *oid)
{
	if (!sluice_str_has_prefix(name, TAGS_PREFIX))
		return;
	size_t len = strlen(name);
	if (len > 3 && strcmp(name + len - 3, "^{}") == 0)
		return;
	int valid = 0;
	if (git_reference_name_is_valid(&valid, name) < 0 || !valid) {
		char *shown = sluice_str_escape_controls(name);
		char *note = sluice_xasprintf("skipped ref '%s': not a valid ref name", shown);
		strv_push(notes, note);
		free(note);
		free(shown);
		git_error_clear();
		return;
	}
	tagrefs_add(out, name + TAGS_PREFIX_LEN, oid);
}

/* The remote's tags from libgit2's listing, sorted. */
static void remote_tags(tagrefs *out, strv *notes, const git_remote_head **heads, size_t n)
{
	for (size_t i = 0; i < n; i++)
		remote_tag_add(out, notes, heads[i]->name, &heads[i]->oid);
	if (out->count > 1)
		qsort(out->items, out->count, sizeof(tagref), tagref_cmp);
}

/* Merges two sorted lists into new, moved and deleted names. */
static bool diff_tags(const tagrefs *local, const tagrefs *remote, strv *added, strv *moved,
		      strv *deleted)
{
	size_t i = 0, j = 0;
	while (i < local->count || j < remote->count) {
		int c = i == local->count	 ? 1
			: j == remote->count ? -1
					     : strcmp(local->items[i].name, remote->items[j].name);
		if (c < 0)
			strv_push(deleted, local->items[i++].name);
		else if (c > 0)
			strv_push(added, remote->items[j++].name);
		else {
			if (!git_oid_equal(&local->items[i].oid, &remote->items[j].oid))
				strv_push(moved, remote->items[j].name);
			i++;
			j++;
		}
	}
	return added->n || moved->n || deleted->n;
}

static void fingerprint(char *out, const tagrefs *t)
{
	sluice_buf b = SLUICE_BUF_INIT;
	git_oid oid;
	char hex[GIT_OID_HEXSZ + 1];
	for (size_t i = 0; i < t->count; i++)
		sluice_buf_printf(&b, "%s %s\n", git_oid_tostr(hex, sizeof hex, &t->items[i].oid),
				  t->items[i].name);
	git_odb_hash(&oid, b.ptr ? b.ptr : "", b.len, GIT_OBJECT_BLOB);
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, &oid);
	sluice_buf_clear(&b);
}

int sluice_source_fetch(sluice_fetch_result *out, const char *cache_dir, const char *key,
			const char *url, const sluice_fetch_opts *opts)
{
	char *path = NULL, *tmp = NULL, *aside = NULL, *why = NULL, *rurl = NULL;
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	tagrefs local = {0}, remote_list = {0};
	strv added = {0}, moved = {0}, deleted = {0}, notes = {0}, specs = {0};
	bool fresh = false;
	fetch_state st;
	int rc;

	sluice_fetch_result_init(out);
	out->status = SLUICE_FETCH_ERROR;
	memset(&st, 0, sizeof st);
	st.opts = opts;
	st.key = key;
	st.max_bytes = opts && opts->max_bytes ? opts->max_bytes : SLUICE_FETCH_MAX_BYTES_DEFAULT;
	st.notes = &notes;
	sluice__local_ctx_init(&st.local, local_note, &st);
	if ((rc = sluice_source_init()) < 0 || (rc = sluice_source_check_url(url)) < 0)
		goto done;
	rurl = sluice_source_redact_url(url);
	if (sluice_mkdir_p(cache_dir, 0700) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot create the cache directory '%s': %s",
				      cache_dir, strerror(errno));
		goto done;
	}
	path = sluice_source_mirror_path(cache_dir, key);
	if (is_dir(path) && mirror_open(&repo, path, &why) < 0) {
		out->warning = sluice_xasprintf("the mirror '%s' is corrupt (%s); cloning it again",
						path, why);
		repo = NULL;
	}
	if (!repo) {
		/* Clone into a temporary directory and rename it into place, so
		 * neither a crash nor an unreachable remote leaves a half mirror
		 * (or destroys the last known one). */
		fresh = true;
		tmp = sluice_xasprintf("%s.tmp-%ld", path, (long)getpid());
		sluice_rm_rf(tmp);
		git_repository_init_options io = GIT_REPOSITORY_INIT_OPTIONS_INIT;
		io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH |
			   GIT_REPOSITORY_INIT_NO_REINIT;
		if (git_repository_init_ext(&repo, tmp, &io) < 0) {
			rc = sluice_error_set(SLUICE_EGIT, "cannot create a mirror in '%s': %s", tmp,
					      git_msg());
			goto done;
		}
	}

	git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
	cb.credentials = credentials_cb;
	cb.transfer_progress = transfer_cb;
	if (sluice__local_usable(url))
		cb.transport = transport_cb;
	cb.payload = &st;
	/* No insteadOf rewriting and no default refspec: the mirror fetches
	 * from exactly the URL the workspace names, only the tags. */
	git_remote_create_options ro = GIT_REMOTE_CREATE_OPTIONS_INIT;
	ro.repository = repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, url, &ro) < 0 ||
	    git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, NULL, NULL) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot reach '%s': %s", rurl,
				      st.err[0] ? st.err : git_msg());
		goto done;
	}
	const git_remote_head **heads;
	size_t nheads;
	if (git_remote_ls(&heads, &nheads, remote) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot list the refs of '%s': %s", rurl,
				      git_msg());
		goto done;
	}
	remote_tags(&remote_list, &notes, heads, nheads);
	fingerprint(out->fingerprint, &remote_list);
	if ((rc = local_tags(&local, repo)) < 0)
		goto done;
	if (!diff_tags(&local, &remote_list, &added, &moved, &deleted) && !fresh) {
		out->status = SLUICE_FETCH_UNCHANGED;
		goto done;
	}

	if (added.n || moved.n) {
		/* One refspec per tag that changed, not refs/tags/ *: a glob
		 * would take the refs remote_tags skipped too, and one invalid
		 * name would fail the whole fetch. */
		char *const *lists[] = {added.v, moved.v};
		for (size_t k = 0; k < 2; k++)
			for (size_t i = 0; lists[k] && lists[k][i]; i++) {
				char *spec = sluice_xasprintf("+" TAGS_PREFIX "%s:" TAGS_PREFIX "%s",
							      lists[k][i], lists[k][i]);
				strv_push(&specs, spec);
				free(spec);
			}
		git_strarray refspecs = {specs.v, specs.n};
		git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
		fo.callbacks = cb;
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		fo.update_fetchhead = 0;
		/* The indexer refuses an object declared larger than the
		 * limit before it allocates for it; transfer_cb stops the
		 * pack as a whole. */
#ifdef SLUICE_HAVE_PACK_MAX_OBJECT_SIZE
		/* a process-wide option, and fetches run on several threads */
		pthread_mutex_lock(&opts_lock);
		git_libgit2_opts(GIT_OPT_SET_PACK_MAX_OBJECT_SIZE, (size_t)st.max_bytes);
		pthread_mutex_unlock(&opts_lock);
#endif
		int err = git_remote_download(remote, &refspecs, &fo);
		if (err == 0)
			err = git_remote_update_tips(remote, &cb, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE,
						     "sluice fetch");
		if (err < 0 && st.over_limit) {
			rc = sluice_error_set(SLUICE_ELIMIT,
					      "refusing to fetch '%s': the download passed %zu bytes, "
					      "over repositories.max_fetch_bytes (%llu bytes); remove "
					      "the large objects from its tags or raise the limit",
					      key, st.stopped_at, (unsigned long long)st.max_bytes);
			goto done;
		}
		if (err < 0) {
			rc = sluice_error_set(SLUICE_EIO, "cannot fetch the tags of '%s': %s", rurl,
					      st.err[0] ? st.err : git_msg());
			goto done;
		}
		const git_indexer_progress *stats = git_remote_stats(remote);
		out->objects = stats->received_objects;
		out->bytes = stats->received_bytes;
	}
	/* Tags gone upstream leave the mirror; the store keeps the release
	 * and flags it (the caller reports deleted_tags). */
	for (size_t i = 0; i < deleted.n; i++) {
		char *ref = sluice_xasprintf(TAGS_PREFIX "%s", deleted.v[i]);
		int err = git_reference_remove(repo, ref);
		free(ref);
		if (err < 0 && err != GIT_ENOTFOUND) {
			rc = sluice_error_set(SLUICE_EGIT, "cannot prune tag '%s' from '%s': %s",
					      deleted.v[i], path, git_msg());
			goto done;
		}
	}
	git_remote_disconnect(remote);

	if (fresh) {
		git_repository_free(repo);
		repo = NULL;
		if (is_dir(path)) {
			aside = sluice_xasprintf("%s.corrupt-%ld", path, (long)getpid());
			if (rename(path, aside) != 0) {
				rc = sluice_error_set(SLUICE_EIO, "cannot move '%s' aside: %s", path,
						      strerror(errno));
				goto done;
			}
		}
		if (rename(tmp, path) != 0) {
			rc = sluice_error_set(SLUICE_EIO, "cannot move the new mirror to '%s': %s",
					      path, strerror(errno));
			goto done;
		}
		if (aside)
			sluice_rm_rf(aside);
		out->status = SLUICE_FETCH_CLONED;
	} else
		out->status = SLUICE_FETCH_FETCHED;
	rc = 0;
done:
	/* first: closing the connection reports the refs a local git hid */
	git_remote_free(remote);
	git_repository_free(repo);
	if (tmp && rc < 0) {
		/* the cleanup must not replace the reason the fetch failed */
		char *reason = sluice_xstrdup(sluice_error_last());
		sluice_rm_rf(tmp);
		sluice_error_set(rc, "%s", reason);
		free(reason);
	}
	if (rc < 0)
		out->status = SLUICE_FETCH_ERROR;
	out->new_tags = strv_detach(&added);
	out->moved_tags = strv_detach(&moved);
	out->deleted_tags = strv_detach(&deleted);
	out->notes = strv_detach(&notes);
	if (rc < 0) {
		/* On error nothing changed; report no tags. */
		out->fingerprint[0] = '\0';
		strv_free_raw(out->new_tags);
		strv_free_raw(out->moved_tags);
		strv_free_raw(out->deleted_tags);
		out->new_tags = sluice_xcalloc(1, sizeof(char *));
		out->moved_tags = sluice_xcalloc(1, sizeof(char *));
		out->deleted_tags = sluice_xcalloc(1, sizeof(char *));
		/* a remote's or libgit2's message may quote the URL, with its
		 * password: every error leaves here masked (the copy, since the
		 * message is the buffer being written) */
		char *masked = sluice_source_redact_url(sluice_error_last());
		sluice_error_set(rc, "%s", masked);
		free(masked);
	}
	if (out->warning) {
		char *masked = sluice_source_redact_url(out->warning);
		free(out->warning);
		out->warning = masked;
	}
	strv_free_raw(specs.v);
	tagrefs_clear(&local);
	tagrefs_clear(&remote_list);
	free(why);
	free(aside);
	free(tmp);
	free(path);
	free(rurl);
	wipe(st.err, sizeof st.err);
	return rc;
}

void sluice_remote_refs_clear(sluice_remote_refs *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++)
		free(r->items[i].name);
	free(r->items);
	memset(r, 0, sizeof *r);
}

int sluice_source_compare_refs(sluice_fetch_result *out, bool *unchanged, const char *cache_dir,
			       const char *key, const sluice_remote_refs *refs)
{
	git_repository *repo = NULL;
	tagrefs local = {0}, remote_list = {0};
	strv added = {0}, moved = {0}, deleted = {0}, notes = {0};
	char *path = NULL, *why = NULL;
	int rc;

	sluice_fetch_result_init(out);
	*unchanged = false;
	if ((rc = sluice_source_init()) < 0)
		goto done;
	path = sluice_source_mirror_path(cache_dir, key);
	/* no mirror, or a corrupt one: sluice_source_fetch (re)clones it */
	if (!is_dir(path) || mirror_open(&repo, path, &why) < 0)
		goto done;
	for (size_t i = 0; i < refs->count; i++) {
		git_oid oid;
		if (git_oid_fromstr(&oid, refs->items[i].id) < 0) {
			git_error_clear();
			goto done; /* not a SHA-1 id: libgit2 says what it makes of it */
		}
		remote_tag_add(&remote_list, &notes, refs->items[i].name, &oid);
	}
	if (remote_list.count > 1)
		qsort(remote_list.items, remote_list.count, sizeof(tagref), tagref_cmp);
	if ((rc = local_tags(&local, repo)) < 0)
		goto done;
	if (diff_tags(&local, &remote_list, &added, &moved, &deleted))
		goto done;
	*unchanged = true;
	out->status = SLUICE_FETCH_UNCHANGED;
	fingerprint(out->fingerprint, &remote_list);
	out->new_tags = strv_detach(&added);
	out->moved_tags = strv_detach(&moved);
	out->deleted_tags = strv_detach(&deleted);
	out->notes = strv_detach(&notes);
done:
	strv_free_raw(added.v);
	strv_free_raw(moved.v);
	strv_free_raw(deleted.v);
	strv_free_raw(notes.v);
	tagrefs_clear(&local);
	tagrefs_clear(&remote_list);
	git_repository_free(repo);
	free(why);
	free(path);
	return rc;
}

/* ---- tags -------------------------------------------------------------- */

const char *sluice_tag_email(const sluice_tag *t)
{
	if (!t)
		return NULL;
	return t->attribution;
}

static void tag_clear(sluice_tag *t)
{
	free(t->name);
	free(t->tagger_email);
	free(t->author_email);
	free(t->committer_email);
	free(t->attribution);
}

void sluice_tag_list_clear(sluice_tag_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		tag_clear(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static char *dup_email(const git_signature *s)
{
	return s && s->email ? sluice_xstrdup(s->email) : NULL;
}

static bool has_ssh_signature(git_odb *odb, const git_oid *id)
{
	git_odb_object *obj = NULL;
	size_t plen, slen;
	const char *sig;
	bool yes = false;
	if (git_odb_read(&obj, odb, id) == 0)
		yes = sluice_tag_split_signature(git_odb_object_data(obj), git_odb_object_size(obj),
						 &plen, &sig, &slen);
	git_odb_object_free(obj);
	return yes;
}

/* The object `id` when it is a tag or a commit of at most
 * MAX_META_OBJECT_BYTES; *obj NULL for anything else. The header tells the
 * type and size without inflating the object, so a tag pointing at a huge
 * blob costs nothing. */
static int lookup_meta(git_object **obj, git_repository *repo, git_odb *odb, const git_oid *id)
{
	size_t size;
	git_object_t type;

	*obj = NULL;
	if (git_odb_read_header(&size, &type, odb, id) < 0)
		return -1;
	if ((type != GIT_OBJECT_TAG && type != GIT_OBJECT_COMMIT) || size > MAX_META_OBJECT_BYTES)
		return 0;
	return git_object_lookup(obj, repo, id, type);
}

static void describe_commit(sluice_tag *t, const git_commit *c)
{
	git_oid_tostr(t->commit, sizeof t->commit, git_commit_id(c));
	t->author_email = dup_email(git_commit_author(c));
	t->committer_email = dup_email(git_commit_committer(c));
	/* a lightweight tag has no tagger: its commit's author and, when
	 * another person, its committer both made the release */
	if (t->tagger_email)
		t->attribution = sluice_xstrdup(t->tagger_email);
	else if (t->author_email && t->committer_email &&
		 strcasecmp(t->author_email, t->committer_email) != 0)
		t->attribution = sluice_xasprintf("%s, %s", t->author_email, t->committer_email);
	else if (t->author_email || t->committer_email)
		t->attribution =
			sluice_xstrdup(t->author_email ? t->author_email : t->committer_email);
	if (!t->annotated)
		t->time = git_commit_time(c);
}

/* Fills t from the object `id` that refs/tags/<name> points at. A tag of a
 * tree or blob, or one whose tag or commit objects are oversized, is listed
 * with an empty commit: it cannot be a release. */
static int describe_tag(sluice_tag *t, git_repository *repo, git_odb *odb, const char *name,
			const git_oid *id)
{
	git_object *obj = NULL;
	git_oid next;
	int rc = 0;

	memset(t, 0, sizeof *t);
	t->name = sluice_xstrdup(name);
	git_oid_tostr(t->id, sizeof t->id, id);
	git_oid_cpy(&next, id);
	for (int depth = 0; depth < MAX_PEEL_DEPTH; depth++) {
		if (lookup_meta(&obj, repo, odb, &next) < 0) {
			rc = sluice_error_set(SLUICE_EGIT, "cannot read tag '%s': %s", name,
					      git_msg());
			goto done;
		}
		if (!obj)
			break;
		if (git_object_type(obj) == GIT_OBJECT_COMMIT) {
			describe_commit(t, (const git_commit *)obj);
			break;
		}
		const git_tag *tag = (const git_tag *)obj;
		if (depth == 0) {
			const git_signature *tagger = git_tag_tagger(tag);
			t->annotated = true;
			t->tagger_email = dup_email(tagger);
			if (tagger)
				t->time = tagger->when.time;
			t->ssh_signed = has_ssh_signature(odb, id);
		}
		git_oid_cpy(&next, git_tag_target_id(tag));
		git_object_free(obj);
		obj = NULL;
	}
done:
	git_object_free(obj);
	return rc;
}

static int open_existing_mirror(git_repository **repo, char **path_out, const char *cache_dir,
				const char *key)
{
	char *path = sluice_source_mirror_path(cache_dir, key);
	int rc = 0;
	*repo = NULL;
	if (!is_dir(path))
		rc = sluice_error_set(SLUICE_ENOTFOUND,
				      "no mirror of '%s' in '%s' yet; run 'sluice fetch' first", key,
				      cache_dir);
	else if (git_repository_open_ext(repo, path,
					 GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
					 NULL) < 0)
		rc = sluice_error_set(SLUICE_EGIT,
				      "cannot open the mirror of '%s' (%s): %s; run 'sluice fetch' "
				      "to clone it again",
				      key, path, git_msg());
	if (path_out && rc == 0)
		*path_out = path;
	else
		free(path);
	return rc;
}

int sluice_source_tags(sluice_tag_list *out, const char *cache_dir, const char *key)
{
	git_repository *repo = NULL;
	git_odb *odb = NULL;
	tagrefs refs = {0};
	int rc;

	out->items = NULL;
	out->count = 0;
	if ((rc = sluice_source_init()) < 0 ||
	    (rc = open_existing_mirror(&repo, NULL, cache_dir, key)) < 0)
		goto done;
	if (git_repository_odb(&odb, repo) < 0) {
		rc = sluice_error_set(SLUICE_EGIT, "cannot read the mirror of '%s': %s", key,
				      git_msg());
		goto done;
	}
	if ((rc = local_tags(&refs, repo)) < 0)
		goto done;
	out->items = sluice_xcalloc(refs.count ? refs.count : 1, sizeof(sluice_tag));
	for (size_t i = 0; i < refs.count; i++) {
		if ((rc = describe_tag(&out->items[out->count], repo, odb, refs.items[i].name,
				       &refs.items[i].oid)) < 0) {
			tag_clear(&out->items[out->count]);
			goto done;
		}
		out->count++;
	}
done:
	if (rc < 0)
		sluice_tag_list_clear(out);
	tagrefs_clear(&refs);
	git_odb_free(odb);
	git_repository_free(repo);
	return rc;
}

int sluice_source_tag_refs(sluice_tag_refs *out, const char *cache_dir, const char *key)
{
	git_repository *repo = NULL;
	tagrefs refs = {0};
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = sluice_source_init()) < 0 ||
	    (rc = open_existing_mirror(&repo, NULL, cache_dir, key)) < 0 ||
	    (rc = local_tags(&refs, repo)) < 0)
		goto done;
	fingerprint(out->fingerprint, &refs);
	out->names = sluice_xcalloc(refs.count + 1, sizeof(char *));
	for (size_t i = 0; i < refs.count; i++) {
		out->names[i] = refs.items[i].name;
		refs.items[i].name = NULL;
	}
	out->count = refs.count;
done:
	tagrefs_clear(&refs);
	git_repository_free(repo);
	return rc;
}

void sluice_tag_refs_clear(sluice_tag_refs *r)
{
	if (!r)
		return;
	sluice_strv_free(r->names);
	memset(r, 0, sizeof *r);
}

int sluice_source_open_tree(sluice_tree **out, const char *cache_dir, const char *key,
			    const char *tag, const char *expect_commit)
{
	char *path = sluice_source_mirror_path(cache_dir, key);
	char *label = sluice_xasprintf("%s@%s", key, tag);
	int rc;
	*out = NULL;
	if (!is_dir(path))
		rc = sluice_error_set(SLUICE_ENOTFOUND,
				      "no mirror of '%s' in '%s' yet; run 'sluice fetch' first", key,
				      cache_dir);
	else
		rc = sluice_tree_open_git(out, path, tag, expect_commit, label);
	free(label);
	free(path);
	return rc;
}

int sluice_source_verify_tag(const char *cache_dir, const char *key, const char *tag,
			     const char *allowed_signers)
{
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_tag *tobj = NULL;
	char *refname = NULL;
	int rc;

	if ((rc = sluice_source_init()) < 0 ||
	    (rc = open_existing_mirror(&repo, NULL, cache_dir, key)) < 0)
		goto done;
	refname = sluice_xasprintf(TAGS_PREFIX "%s", tag);
	if (git_reference_lookup(&ref, repo, refname) < 0 || !git_reference_target(ref)) {
		rc = sluice_error_set(SLUICE_ENOTFOUND, "tag '%s' not found in '%s'", tag, key);
		goto done;
	}
	const git_oid *id = git_reference_target(ref);
	size_t tsize;
	git_object_t ttype;
	if (git_repository_odb(&odb, repo) < 0 || git_odb_read_header(&tsize, &ttype, odb, id) < 0) {
		rc = sluice_error_set(SLUICE_EGIT, "cannot read tag '%s' of '%s': %s", tag, key,
				      git_msg());
		goto done;
	}
	if (ttype == GIT_OBJECT_TAG && tsize > MAX_META_OBJECT_BYTES) {
		rc = sluice_error_set(SLUICE_EREFUSED,
				      "tag '%s' of '%s' is a tag object of %zu bytes, over the %u "
				      "bytes a tag may have",
				      tag, key, tsize, MAX_META_OBJECT_BYTES);
		goto done;
	}
	if (ttype != GIT_OBJECT_TAG || git_tag_lookup(&tobj, repo, id) < 0) {
		rc = sluice_error_set(SLUICE_EREFUSED,
				      "tag '%s' of '%s' is lightweight, so it cannot be signed; "
				      "require_signed_tags needs an annotated tag signed with an "
				      "ssh key (git tag -s with gpg.format=ssh)",
				      tag, key);
		goto done;
	}
	const git_signature *tagger = git_tag_tagger(tobj);
	if (git_odb_read(&obj, odb, id) < 0) {
		rc = sluice_error_set(SLUICE_EGIT, "cannot read tag '%s' of '%s': %s", tag, key,
				      git_msg());
		goto done;
	}
	size_t plen, slen;
	const char *sig;
	const char *data = git_odb_object_data(obj);
	if (!sluice_tag_split_signature(data, git_odb_object_size(obj), &plen, &sig, &slen)) {
		rc = sluice_error_set(SLUICE_EREFUSED,
				      "tag '%s' of '%s' is not signed with an ssh key; "
				      "require_signed_tags is on: sign it with 'git tag -s' and "
				      "gpg.format=ssh",
				      tag, key);
		goto done;
	}
	if (!tagger || !tagger->email || !*tagger->email) {
		rc = sluice_error_set(SLUICE_EREFUSED, "tag '%s' of '%s' has no tagger e-mail to "
						       "verify its signature against",
				      tag, key);
		goto done;
	}
	rc = sluice_ssh_verify(allowed_signers, tagger->email, "git", data, plen, sig, slen);
	if (rc == SLUICE_EREFUSED)
		sluice_error_wrap(SLUICE_EREFUSED,
				  "the ssh signature of tag '%s' of '%s' (tagger %s) does not verify "
				  "against '%s'",
				  tag, key, tagger->email, allowed_signers);
done:
	git_odb_object_free(obj);
	git_odb_free(odb);
	git_tag_free(tobj);
	git_reference_free(ref);
	git_repository_free(repo);
	free(refname);
	return rc;
}
