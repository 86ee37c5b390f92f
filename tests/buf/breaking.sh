#!/usr/bin/env bash
# buf breaking: the API in proto/ against the previous commit's, so that a change that breaks the
# binary or JSON form of a message (proto/buf.yaml) fails. Exits 77 (ctest: skipped) when there is
# no previous commit with a proto/ to compare with: the first commit, or a shallow clone.
#   tests/buf/breaking.sh /usr/local/bin/buf
set -euo pipefail
buf=$1
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if ! previous=$(git rev-parse -q --verify 'HEAD~1^{commit}' 2>/dev/null) ||
   ! git cat-file -e "${previous}:proto" 2>/dev/null; then
  echo "buf_breaking: no previous commit with proto/ to compare with; skipped"
  exit 77
fi
# The repository's own .git directory (a worktree's is shared), at the previous commit.
git_dir=$(git rev-parse --path-format=absolute --git-common-dir)
echo "buf_breaking: proto/ against ${previous}"
exec "${buf}" breaking proto --against "${git_dir}#ref=${previous},subdir=proto"
