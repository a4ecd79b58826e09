#!/usr/bin/env bash
# Fetch CPython 3.14 / 3.15 from Debian's package suites (default: trixie and sid)
# and unpack them for the tests, without touching the system's apt state.
#
#   scripts/fetch-debian-pythons.sh [--best-effort] [--check] [3.14] [3.15]
#
# Result, per version (dir = $PYCSTORE_PYTHONS_DIR or <repo>/.cache/pythons):
#   <dir>/3.X/root/           python3.X-minimal, libpython3.X-minimal, libpython3.X-stdlib (dpkg-deb -x)
#   <dir>/3.X/libc/           only if needed: newer libc6 (and any other library the packages need in a
#                             newer version than the system has), used through patchelf
#   <dir>/3.X/bin/python3.X   exec wrapper (a script, not a symlink: a venv records
#                             home = dirname(sys.executable), and 3.12+ cannot find its stdlib when
#                             that is a folder holding only a symlink)
#   <dir>/3.X/.installed      what was installed; its presence + a working interpreter = done
# Scratch apt configuration, lists and downloaded .debs live in <dir>/.apt and <dir>/.debs.
# If the mirror's Release files are past their Valid-Until for this machine's clock (a frozen
# snapshot), the script says so and retries with Acquire::Check-Valid-Until=false; signatures are
# still verified.
#
# Options:
#   --best-effort  a version that cannot be obtained is a loud warning, not a failure (exit 0)
#   --check        re-run the full interpreter checks even for versions that are already present
# Environment:
#   PYCSTORE_PYTHONS_DIR     target folder (default <repo>/.cache/pythons)
#   PYCSTORE_DEBIAN_SUITES   suites to search (default "trixie sid")
#   PYCSTORE_DEBIAN_MIRROR   mirror URI (default: taken from the system's own apt sources)
set -euo pipefail

PROG=fetch-debian-pythons
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=${PYCSTORE_PYTHONS_DIR:-$REPO/.cache/pythons}
SUITES=${PYCSTORE_DEBIAN_SUITES:-trixie sid}

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: WARNING: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }

BEST_EFFORT=0
FORCE_CHECK=0
VERSIONS=()
for arg in "$@"; do
  case $arg in
    --best-effort) BEST_EFFORT=1 ;;
    --check) FORCE_CHECK=1 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    3.[0-9] | 3.[0-9][0-9]) VERSIONS+=("$arg") ;;
    *) die "unknown argument '$arg' (expected --best-effort, --check or versions such as 3.14 3.15)" ;;
  esac
done
((${#VERSIONS[@]})) || VERSIONS=(3.14 3.15)

mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
# One run at a time per target folder (tests may call this concurrently).
exec 9>"$DEST/.lock"
flock 9

# Environment for running the interpreters: nothing inherited that changes Python's behaviour
# (this machine sets PYTHONDONTWRITEBYTECODE=1, which would stop py_compile from being tested).
PYENV=(env -i "PATH=/usr/local/bin:/usr/bin:/bin" "HOME=${HOME:-/root}" "LANG=C.UTF-8" "TMPDIR=${TMPDIR:-/tmp}")

# ---------------------------------------------------------------------------------------------
# Already present?

stamp() { printf '%s/%s/.installed' "$DEST" "$1"; }
wrapper() { printf '%s/%s/bin/python%s' "$DEST" "$1" "$1"; }

is_ready() {
  local v=$1
  [[ -f $(stamp "$v") && -x $(wrapper "$v") ]] || return 1
  "${PYENV[@]}" "$(wrapper "$v")" -c pass >/dev/null 2>&1
}

# ---------------------------------------------------------------------------------------------
# Full check of an interpreter (run after installing, or with --check). Prints the facts line.

check_interpreter() {
  local tmp rc=0
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/$PROG.XXXXXX")
  check_in "$1" "$tmp" || rc=$?
  rm -rf "$tmp"
  return "$rc"
}

check_in() {
  local v=$1 tmp=$2 py facts tag magic
  py=$(wrapper "$v")
  facts=$("${PYENV[@]}" "$py" -c 'import sys, importlib.util; print(sys.version.split()[0], importlib.util.MAGIC_NUMBER.hex(), sys.implementation.cache_tag)') ||
    { say "$v: check failed: the interpreter does not run"; return 1; }
  magic=$(cut -d' ' -f2 <<<"$facts")
  tag=$(cut -d' ' -f3 <<<"$facts")
  "${PYENV[@]}" "$py" -m venv --without-pip "$tmp/venv" ||
    { say "$v: check failed: python$v -m venv --without-pip"; return 1; }
  "${PYENV[@]}" "$tmp/venv/bin/python" -c 'import sys, json, compileall, marshal; assert sys.prefix != sys.base_prefix, "not in a venv"' ||
    { say "$v: check failed: the venv's python cannot import json, compileall, marshal"; return 1; }
  printf 'x = 1\n' >"$tmp/m.py"
  "${PYENV[@]}" "$tmp/venv/bin/python" -m py_compile "$tmp/m.py" ||
    { say "$v: check failed: py_compile in the venv"; return 1; }
  local pyc="$tmp/__pycache__/m.$tag.pyc"
  [[ -f $pyc ]] || { say "$v: check failed: py_compile wrote no $pyc"; return 1; }
  [[ $(od -An -tx1 -N4 "$pyc" | tr -d ' \n') == "$magic" ]] ||
    { say "$v: check failed: $pyc does not start with the magic $magic"; return 1; }
  say "$v: checked: version, magic, cache tag = $facts; venv, imports, py_compile OK"
}

# ---------------------------------------------------------------------------------------------
# Fast path: everything present.

TODO=()
for v in "${VERSIONS[@]}"; do
  if is_ready "$v"; then
    say "$v: already present ($(head -n1 "$(stamp "$v")")), nothing to do"
    if ((FORCE_CHECK)) && ! check_interpreter "$v"; then
      TODO+=("$v")
    fi
  else
    TODO+=("$v")
  fi
done
((${#TODO[@]})) || exit 0

# ---------------------------------------------------------------------------------------------
# Scratch apt configuration under $DEST/.apt. APT_CONFIG points apt at our own (empty) apt.conf.d,
# so none of the system's apt.conf.d hooks (Post-Invoke, appstream, docker-clean, ...) run; every
# Dir:: path that apt writes to is under $DEST/.apt.

ARCH=$(dpkg --print-architecture)
APTDIR=$DEST/.apt
DEBDIR=$DEST/.debs

find_mirror() {
  # Prints "<uri> <signed-by keyring or ->" of the first enabled `deb` entry in the system's apt
  # sources whose suite is the system's release codename or, failing that, any suite without a
  # dash (so not -security/-updates/-backports).
  local codename
  codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
  [[ -n $codename ]] && mirror_for_suite "$codename" && return 0
  mirror_for_suite ""
}

mirror_for_suite() { # suite ("" = any suite without a dash); prints the first match, fails if none
  local codename=$1 files=() f
  [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] && files+=("$f")
  done
  ((${#files[@]})) || return 1
  for f in "${files[@]}"; do
    case $f in
      *.sources)
        awk -v want="$codename" '
          function flush(   n, i, s, u) {
            if (!done && types ~ /(^| )deb( |$)/ && tolower(enabled) != "no" && uris != "") {
              n = split(suites, s, /[ \t]+/)
              for (i = 1; i <= n; i++)
                if ((want != "" && s[i] == want) || (want == "" && s[i] !~ /-/)) {
                  split(uris, u, /[ \t]+/); print u[1], (signed == "" ? "-" : signed); done = 1; break
                }
            }
            types = uris = suites = signed = enabled = ""
          }
          /^[ \t]*#/ { next }
          /^[ \t]*$/ { flush(); next }
          /^[ \t]/ { next }                      # continuation line (e.g. an inline key)
          {
            key = tolower($0); sub(/:.*/, "", key)
            val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
            if (key == "types") types = val
            else if (key == "uris") uris = val
            else if (key == "suites") suites = val
            else if (key == "enabled") enabled = val
            else if (key == "signed-by") signed = (val ~ /^\// ? val : "")
          }
          END { flush() }' "$f"
        ;;
      *)
        awk -v want="$codename" '
          /^[ \t]*#/ || NF < 3 || $1 != "deb" { next }
          {
            i = 2; signed = "-"
            if ($i ~ /^\[/) {
              for (; i <= NF; i++) {
                if ($i ~ /signed-by=/) { s = $i; sub(/.*signed-by=/, "", s); sub(/\]$/, "", s); signed = s }
                if ($i ~ /\]$/) { i++; break }
              }
            }
            uri = $i; suite = $(i + 1)
            if ((want != "" && suite == want) || (want == "" && suite !~ /-/)) { print uri, signed; exit }
          }' "$f"
        ;;
    esac
  done | awk 'NR == 1 { print; found = 1 } END { exit !found }'
}

setup_apt() {
  local mirror keyring line origin
  if [[ -n ${PYCSTORE_DEBIAN_MIRROR:-} ]]; then
    mirror=$PYCSTORE_DEBIAN_MIRROR
    keyring=-
    origin=PYCSTORE_DEBIAN_MIRROR
  else
    line=$(find_mirror) || true
    [[ -n $line ]] || { warn "no Debian mirror found in the system's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/*)"; return 1; }
    mirror=${line% *}
    keyring=${line##* }
    origin="from the system's apt sources"
  fi
  if [[ $keyring == - && -f /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  fi
  say "mirror $mirror ($origin), suites: $SUITES"

  mkdir -p "$APTDIR"/etc/apt.conf.d "$APTDIR"/etc/sources.list.d "$APTDIR"/etc/preferences.d \
    "$APTDIR"/state/lists/partial "$APTDIR"/cache/archives/partial "$APTDIR"/log "$DEBDIR"
  : >"$APTDIR/etc/sources.list"
  [[ -f $APTDIR/state/status ]] || : >"$APTDIR/state/status"
  cat >"$APTDIR/apt.conf" <<EOF
// Read through APT_CONFIG, before anything else: keeps the system's apt.conf.d out.
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$APTDIR/etc/apt.conf.d";
EOF
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\n' "$mirror" "$SUITES"
    [[ $keyring == - ]] || printf 'Signed-By: %s\n' "$keyring"
  } >"$APTDIR/etc/sources.list.d/debian.sources"

  APT_OPTS=(
    -o "Dir::Etc::sourcelist=$APTDIR/etc/sources.list"
    -o "Dir::Etc::sourceparts=$APTDIR/etc/sources.list.d"
    -o "Dir::Etc::preferences=$APTDIR/etc/preferences"
    -o "Dir::Etc::preferencesparts=$APTDIR/etc/preferences.d"
    -o "Dir::State=$APTDIR/state"
    -o "Dir::State::Lists=$APTDIR/state/lists"
    -o "Dir::State::status=$APTDIR/state/status"
    -o "Dir::Cache=$APTDIR/cache"
    -o "Dir::Log=$APTDIR/log"
    -o "APT::Architecture=$ARCH"
    -o "APT::Architectures::=$ARCH"
    -o "Acquire::Languages=none"
    -o "Acquire::PDiffs=false"
    -o "Acquire::GzipIndexes=true"
    -o "Acquire::CompressionTypes::Order::=gz"
    -o "Dir::Cache::srcpkgcache="
    -o "APT::Get::List-Cleanup=true"
  )
  # apt drops to user _apt for downloads, which cannot write into our folders.
  [[ $(id -u) == 0 ]] && APT_OPTS+=(-o "APT::Sandbox::User=root")

  say "apt-get update (scratch lists in $APTDIR/state/lists)"
  local log=$APTDIR/log/update.log
  if ! apt_get update >"$log" 2>&1 && grep -q 'is expired\|is not valid yet' "$log"; then
    # The mirror serves Release files whose Valid-Until has passed relative to this machine's clock
    # (a frozen snapshot). Signatures are still checked.
    warn "the mirror's Release files are out of date for this clock:"
    grep '^E:' "$log" | sed 's/^/    /' >&2
    warn "retrying with Acquire::Check-Valid-Until=false (signatures are still verified)"
    APT_OPTS+=(-o "Acquire::Check-Valid-Until=false")
    apt_get update >"$log" 2>&1 || true
  fi
  if grep -q '^[EW]:' "$log"; then
    warn "apt-get update reported problems (full log: $log):"
    grep '^[EW]:' "$log" | sed 's/^/    /' >&2
  fi
}

apt_get() { APT_CONFIG=$APTDIR/apt.conf apt-get -q "${APT_OPTS[@]}" "$@"; }
apt_cache() { APT_CONFIG=$APTDIR/apt.conf apt-cache "${APT_OPTS[@]}" "$@"; }

candidate() { # package -> candidate version in the scratch suites, or nothing
  apt_cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

fetch_deb() { # package version -> sets DEB to the path of the .deb in $DEBDIR (downloading it if needed)
  local pkg=$1 ver=$2 f
  f=$(compgen -G "$DEBDIR/${pkg}_${ver//:/%3a}_*.deb" | head -n1) || true
  if [[ -z $f ]]; then
    (cd "$DEBDIR" && apt_get download "$pkg=$ver" >"$APTDIR/log/download.log" 2>&1) || {
      sed 's/^/    /' "$APTDIR/log/download.log" >&2
      return 1
    }
    f=$(compgen -G "$DEBDIR/${pkg}_${ver//:/%3a}_*.deb" | head -n1) || true
    [[ -n $f ]] || return 1
    say "  downloaded $(basename "$f") ($(du -k "$f" | cut -f1) kB)"
  else
    say "  have $(basename "$f")"
  fi
  DEB=$f
}

deps_of() { # package version -> "name op version" (op/version may be empty), first alternatives
  apt_cache show --no-all-versions "$1=$2" 2>/dev/null | awk '
    /^(Pre-)?Depends:/ {
      sub(/^[^:]*:[ \t]*/, "")
      n = split($0, d, /,[ \t]*/)
      for (i = 1; i <= n; i++) {
        a = d[i]; sub(/[ \t]*\|.*/, "", a)
        name = a; sub(/[ \t(].*/, "", name); sub(/:.*/, "", name)
        op = ""; ver = ""
        if (match(a, /\(([<>=]+)[ \t]*([^)]*)\)/)) { spec = substr(a, RSTART + 1, RLENGTH - 2); split(spec, p, /[ \t]+/); op = p[1]; ver = p[2] }
        print name, op, ver
      }
    }'
}

newer_libs() { # "name op version" lines on stdin -> the lib* names (not libc6, libpython*) the system does not satisfy
  local name op ver
  while read -r name op ver; do
    [[ $name == lib* && $name != libc6 && $name != libpython* ]] || continue
    system_satisfies "$name" "$op" "$ver" || printf '%s\n' "$name"
  done
}

system_satisfies() { # name op version -> 0 if an installed system package satisfies it
  local name=$1 op=${2:-} ver=${3:-} n inst
  for n in "$name" "${name%t64}"; do
    inst=$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$n:$ARCH" 2>/dev/null ||
      dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$n" 2>/dev/null) || continue
    [[ $inst == ii* ]] || continue
    inst=${inst##* }
    [[ -z $op ]] && return 0
    dpkg --compare-versions "$inst" "$op" "$ver" && return 0
  done
  return 1
}

ensure_patchelf() {
  command -v patchelf >/dev/null && return 0
  if [[ $(id -u) == 0 ]]; then
    say "installing Debian's patchelf (apt-get install -y patchelf)"
    apt-get install -y -q patchelf >/dev/null || { say "apt-get install patchelf failed"; return 1; }
  else
    say "patchelf is needed to run these builds on this system's older glibc, and it is not installed."
    say "Install it (as root: apt-get install -y patchelf) and run this script again."
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Install one version. Runs in a subshell with set -e; prints why it failed.

install_version() {
  local v=$1 vdir=$DEST/$1 ver pkg f exe err
  local pkgs=("python$v-minimal" "libpython$v-minimal" "libpython$v-stdlib")
  ver=$(candidate "python$v-minimal")
  [[ -n $ver ]] || { say "$v: package python$v-minimal is not in Debian suites '$SUITES' of the mirror"; return 1; }
  local found
  for pkg in "${pkgs[@]:1}"; do
    found=$(candidate "$pkg")
    [[ $found == "$ver" ]] || { say "$v: $pkg has no version $ver in suites '$SUITES' (found: '$found')"; return 1; }
  done
  say "$v: Debian $ver: ${pkgs[*]}"
  local debs=()
  for pkg in "${pkgs[@]}"; do
    fetch_deb "$pkg" "$ver" || { say "$v: could not download $pkg $ver"; return 1; }
    debs+=("$DEB")
  done

  [[ $vdir == "$DEST"/3.* ]] || return 1
  rm -rf "$vdir"
  mkdir -p "$vdir/root" "$vdir/bin"
  for f in "${debs[@]}"; do dpkg-deb -x "$f" "$vdir/root"; done
  say "$v: unpacked into $vdir/root"
  exe=$vdir/root/usr/bin/python$v
  [[ -x $exe ]] || { say "$v: $exe missing after unpacking"; return 1; }

  local patched=no libinfo=""
  if ! err=$("${PYENV[@]}" "$exe" -c pass 2>&1); then
    say "$v: does not run on this system's libraries:"
    printf '%s\n' "$err" | head -n 5 | sed 's/^/    /'
    ensure_patchelf
    # libc6, plus every library the packages need in a newer version than the system has.
    local queue=(libc6) seen=" " compat=() name dver
    mapfile -t -O 1 queue < <(for pkg in "${pkgs[@]}"; do deps_of "$pkg" "$ver"; done | newer_libs)
    while ((${#queue[@]})); do
      name=${queue[0]}
      queue=("${queue[@]:1}")
      [[ $seen == *" $name "* ]] && continue
      seen+="$name "
      dver=$(candidate "$name")
      [[ -n $dver ]] || { say "$v: needs a newer $name, which is not in suites '$SUITES'"; return 1; }
      compat+=("$name=$dver")
      [[ $name == libc6 ]] && continue # its own dependencies (libgcc-s1, gconv modules) are not needed
      mapfile -t -O "${#queue[@]}" queue < <(deps_of "$name" "$dver" | newer_libs)
    done
    say "$v: unpacking newer libraries into $vdir/libc: ${compat[*]}"
    mkdir -p "$vdir/libc"
    local spec
    for spec in "${compat[@]}"; do
      fetch_deb "${spec%%=*}" "${spec#*=}" || { say "$v: could not download $spec"; return 1; }
      dpkg-deb -x "$DEB" "$vdir/libc"
    done
    local libc_so libdir ldso
    libc_so=$(find "$vdir/libc" -name libc.so.6 -path '*/lib/*' | head -n1)
    [[ -n $libc_so ]] || { say "$v: libc.so.6 not found in the unpacked libc6"; return 1; }
    libdir=$(dirname "$libc_so")
    ldso=$(find "$libdir" -maxdepth 1 -name 'ld-linux*.so.*' | head -n1)
    [[ -n $ldso ]] || { say "$v: the dynamic loader was not found in $libdir"; return 1; }
    patchelf --set-interpreter "$ldso" --force-rpath --set-rpath "$libdir" "$exe"
    say "$v: patched $exe: interpreter $ldso, rpath $libdir"
    err=$("${PYENV[@]}" "$exe" -c pass 2>&1) || {
      say "$v: still does not run after patching:"
      printf '%s\n' "$err" | head -n 5 | sed 's/^/    /'
      return 1
    }
    patched=yes
    libinfo=" ${compat[*]}"
  fi

  cat >"$(wrapper "$v")" <<EOF
#!/bin/sh
# Debian's CPython $v ($ver), unpacked by scripts/fetch-debian-pythons.sh.
# A script rather than a symlink, so that sys.executable is the real binary next to its stdlib.
exec "$exe" "\$@"
EOF
  chmod +x "$(wrapper "$v")"
  say "$v: wrote $(wrapper "$v")"

  check_interpreter "$v" || return 1
  {
    printf 'Debian %s, patched for newer libc: %s%s\n' "$ver" "$patched" "$libinfo"
    for f in "${debs[@]}"; do basename "$f"; done
  } >"$(stamp "$v")"
}

FAILED=()
if setup_apt; then
  for v in "${TODO[@]}"; do
    set +e
    (set -e; install_version "$v")
    rc=$?
    set -e
    if ((rc != 0)); then
      FAILED+=("$v")
      [[ -d $DEST/$v && ! -f $(stamp "$v") ]] && rm -rf "${DEST:?}/$v" # leave nothing half-made for the tests to find
    fi
  done
else
  FAILED=("${TODO[@]}")
fi

# apt's binary package cache is large (~70 MB) and rebuilt on demand; the gzipped lists stay.
rm -f "$APTDIR"/cache/*.bin

((${#FAILED[@]})) || { say "done: ${VERSIONS[*]} in $DEST"; exit 0; }

msg="could not obtain CPython ${FAILED[*]} from Debian (suites: $SUITES); see the messages above"
if ((BEST_EFFORT)); then
  {
    echo '#####################################################################################'
    echo "$PROG: WARNING: $msg."
    echo "$PROG: WARNING: --best-effort: continuing; the tests will report ${FAILED[*]} as missing."
    echo '#####################################################################################'
  } >&2
  exit 0
fi
die "$msg"
