# Shared by the reconcile benchmarks (run.sh, secrets.sh): the generated
# plugin repositories, the bench workspace and the timing helpers. Source
# with W, N, SRC and SLUICE set; DEPLOY_EXTRA (printf %b text, @ID@ and
# @REPO@ filled in) is appended to every deploy file.
now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# ---- the repositories ------------------------------------------------------
# One git fast-import writes every plugin's release commits into one shared
# object store: the reference plugin's tool and guidance files once (marks
# 1-7), and per plugin its own plugin.yaml and deploy file (id, repository,
# version). Each plugin repository is then a bare directory of plain files
# whose packed-refs name its tags, with an alternates link to the shared
# objects (as bench/fetch does). v0.1.0 is published at once; v0.2.0 exists
# in the object store and is added to a plugin's packed-refs to "change" it.
EX=$SRC/examples/plugins/backend-pr-reviewer
FILES="tools/get_pull_request_diff.json tools/run_safe_checks.json tools/post_review_draft.json
guidance/role.md guidance/workflow.md guidance/output-format.md guidance/escalation.md"

# The per-plugin files come from one awk program (a process per plugin
# would take minutes on a slow fork): plugin.yaml is the reference manifest
# and the deploy file the template below, with @ID@, @REPO@ and @VERSION@
# filled in.
make_templates() {
sed -e 's/^id: backend-pr-reviewer$/id: @ID@/' -e 's/^version: 0\.1\.0$/version: @VERSION@/' \
	-e 's/^  workspace: engineering$/  workspace: bench/' \
	-e 's/^  groups: \[.*\]$/  groups: [pilot, early, everyone]/' \
	-e 's/owner_group: platform-devex/owner_group: pilot/' "$EX/plugin.yaml" >"$W/manifest.tpl"
cat >"$W/deploy.tpl" <<'EOF'
plugin:
  id: @ID@
  version: @VERSION@
  source: {type: git, repository: @REPO@, ref: refs/tags/v@VERSION@}
environment:
  CODEX_PLUGIN_SERVICE_URL: https://@ID@.company.internal
rollout:
  strategy: staged
  stages:
    - {name: pilot, groups: [pilot], duration_days: 7}
    - {name: early, groups: [early], duration_days: 14}
    - {name: everyone, groups: [everyone]}
controls: {require_admin_approval: false, allow_user_disable: true}
EOF
printf '%b' "${DEPLOY_EXTRA:-}" >>"$W/deploy.tpl"
}

stream() {
	m=1
	for f in $FILES; do
		printf 'blob\nmark :%d\ndata %d\n' "$m" "$(wc -c <"$EX/$f")"
		cat "$EX/$f"
		printf '\n'
		m=$((m + 1))
	done
	awk -v n="$N" -v files="$FILES" -v man="$W/manifest.tpl" -v dep="$W/deploy.tpl" '
	function slurp(f,   s, line) { s = ""; while ((getline line < f) > 0) s = s line "\n"; close(f); return s }
	function fill(t, id, repo, v) { gsub(/@ID@/, id, t); gsub(/@REPO@/, repo, t); gsub(/@VERSION@/, v, t); return t }
	function data(s) { printf "data %d\n%s\n", length(s), s }
	BEGIN {
		mt = slurp(man); dt = slurp(dep)
		nf = split(files, fl, /[ \n]+/)
		for (i = 1; i <= n; i++) {
			name = sprintf("p%04d", i); id = "bench-" name
			for (k = 1; k <= 2; k++) {
				v = (k == 1) ? "0.1.0" : "0.2.0"
				printf "commit refs/heads/%s\ncommitter Bench <bench@acme.example> 1700000000 +0000\n", name
				data("release " v)
				for (m = 1; m <= nf; m++) printf "M 100644 :%d %s\n", m, fl[m]
				printf "M 100644 inline plugin.yaml\n"; data(fill(mt, id, "bench/" name, v))
				printf "M 100644 inline deploy/workspace-config.yaml\n"; data(fill(dt, id, "bench/" name, v))
				printf "tag %s/v%s\nfrom refs/heads/%s\ntagger Bench <bench@acme.example> 1700000000 +0000\n", name, v, name
				data("release " v)
			}
		}
	}'
}

# make_repos: the N repositories in $W/git/bench
make_repos() {
make_templates
echo "creating $N plugin repositories (reference plugin, three stages)..."
start=$(now)
git init -q --bare "$W/shared.git"
stream | git -C "$W/shared.git" fast-import --quiet
git -C "$W/shared.git" for-each-ref --format='%(objectname) %(refname)' refs/tags >"$W/refs.txt"
awk -v base="$W/git/bench" '{ split($2, p, "/"); print base "/" p[3] ".git/objects/info"; print base "/" p[3] ".git/refs" }' "$W/refs.txt" |
	sort -u | xargs mkdir -p
awk -v base="$W/git/bench" -v shared="$W/shared.git/objects" '
{
	split($2, p, "/")            # refs tags pNNNN vX.Y.Z
	dir = base "/" p[3] ".git"
	if (!(dir in seen)) {
		seen[dir] = 1
		print "ref: refs/heads/main" > (dir "/HEAD"); close(dir "/HEAD")
		printf "[core]\n\trepositoryformatversion = 0\n\tbare = true\n" > (dir "/config")
		close(dir "/config")
		print shared > (dir "/objects/info/alternates"); close(dir "/objects/info/alternates")
	}
	f = (p[4] == "v0.1.0") ? dir "/packed-refs" : dir "/later-refs"
	print $1 " refs/tags/" p[4] >> f
	close(f)
}' "$W/refs.txt"
[ "$(ls "$W/git/bench" | wc -l)" -eq "$N" ] || { echo "expected $N repositories" >&2; exit 1; }
echo "  done in $(elapsed "$start") s"
}

# write_workspace FILE [LINE...]: the bench workspace watching every
# repository, with LINEs (top-level keys) added
write_workspace() {
f=$1
shift
{
	echo "workspace: bench"
	echo "groups:"
	echo "  pilot: {members: [alice]}"
	echo "  early: {members: [bob, carol]}"
	echo "  everyone: {members: [dan, erin, frank, grace]}"
	echo "admins: [{id: ana, roles: [approver, operator], emails: [ana@acme.example]}]"
	echo "repositories: {url_template: \"file://$W/git/{repository}.git\"}"
	echo "plugins:"
	ls "$W/git/bench" | sed 's/\.git$//; s|.*|  - {repository: bench/&, versions: ">=0.1.0 <1.0.0"}|'
	echo "policy: {identity: asserted}"
	echo "publish: {type: directory, path: .sluice/published}"
	for l in "$@"; do echo "$l"; done
} >"$f"
}

# timed LABEL CMD...: runs CMD under /usr/bin/time -v; sets $secs, $rss_mb
timed() {
	label=$1
	shift
	/usr/bin/time -v -o "$W/time.txt" "$@" >"$W/out.txt" 2>"$W/err.txt" || {
		echo "$label failed:" >&2
		tail -5 "$W/err.txt" >&2
		exit 1
	}
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0;
		for (k = 1; k <= n; k++) s = s * 60 + p[k]; printf "%.3f", s}' "$W/time.txt")
	rss_mb=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$W/time.txt")
}
# best3 LABEL CMD...: the fastest of three runs (the page cache warm)
best3() {
	best= best_rss=
	for _ in 1 2 3; do
		timed "$@"
		if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$secs
		fi
		best_rss=$rss_mb
	done
	secs=$best
	rss_mb=$best_rss
}

