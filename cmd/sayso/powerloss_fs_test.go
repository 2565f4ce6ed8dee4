//go:build linux

package main

// The file-system half of the power-loss test: it reads an strace log of a
// Sayso run, keeps what happened to every file and directory under the data
// folder, and rebuilds that folder as a machine that lost power at a chosen
// line of the log could have found it. The model is in docs/SECURITY.md
// ("Power loss during disclosures").

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// straceSyscalls are the calls the trace records: everything that changes a
// file's bytes, a directory's names or an fd's meaning, and the syncs.
// Calls the model does not handle are recorded too, so that meeting one on
// a file under the data folder fails the test instead of being missed.
const straceSyscalls = "open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,rmdir," +
	"link,linkat,symlink,symlinkat,truncate,ftruncate,fallocate,write,pwrite64,writev,pwritev,pwritev2," +
	"fsync,fdatasync,sync_file_range,syncfs,sync,close,close_range,dup,dup2,dup3,lseek"

// straceArgs are strace's options before the traced command: follow
// threads, microsecond wall-clock times (compared with when the test got
// each answer), every byte written, in hex.
func straceArgs(out string) []string {
	return []string{"-f", "-qq", "-ttt", "-xx", "-s", "4194304", "-e", "trace=" + straceSyscalls, "-o", out}
}

const never = math.MaxInt // the end of a call still running when the trace stops

// span is where a call starts and ends, as line numbers of the trace.
type span struct{ start, end int }

// dataOp is a write or a truncation of one file.
type dataOp struct {
	span
	trunc bool
	off   int64 // write: where
	data  []byte
	size  int64 // truncation: the new size
}

// nsOp changes a directory's names: create (a file or directory), rename
// or link within the directory, or unlink.
type nsOp struct {
	span
	kind     byte // 'c', 'r', 'l' or 'u'
	name, to string
	ino      int // what create made
}

// inode is one file or directory under the data folder.
type inode struct {
	path  string // where it was first made, relative to the data folder
	dir   bool
	ops   []dataOp // files: in the order they completed
	names []nsOp   // directories: in the order they completed
	syncs []span   // fsync or fdatasync calls that returned 0
}

// fsTrace is what the trace says happened under the data folder.
type fsTrace struct {
	root   string
	ts     []int64 // each line's time, µs since 1970
	inodes []*inode
	events []int // lines where a call on the data folder starts or ends
	lines  int
	bytes  int64 // bytes written to files under the data folder
}

// call is one system call, put together from its line or its
// <unfinished ...> and <... resumed> lines.
type call struct {
	name  string
	raw   string // the arguments as strace wrote them
	args  []string
	start int
	// Resolved at entry, for calls on an fd.
	fd    *openFile
	fdNum int64
}

type openFile struct {
	ino int
	off int64
}

// parseTrace reads an strace log (straceArgs) of a process whose data folder
// was root, which was empty when the trace began.
func parseTrace(path, root string) (*fsTrace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := &traceParser{
		tr:      &fsTrace{root: filepath.Clean(root)},
		names:   map[string]int{},
		fds:     map[int64]*openFile{},
		pending: map[string]*call{},
	}
	p.tr.inodes = []*inode{{path: ".", dir: true}}
	p.names[p.tr.root] = 0
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			if perr := p.line(strings.TrimSuffix(line, "\n")); perr != nil {
				return nil, fmt.Errorf("%s line %d: %w", path, p.seq, perr)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	// Calls still running when the trace stopped never completed; in the
	// order they started, so that a replay draws the same fates.
	running := slices.SortedFunc(maps.Values(p.pending), func(a, b *call) int { return cmp.Compare(a.start, b.start) })
	for _, c := range running {
		if err := p.exit(c, "", never); err != nil {
			return nil, err
		}
	}
	for _, in := range p.tr.inodes {
		slices.SortStableFunc(in.ops, func(a, b dataOp) int { return cmp.Compare(a.end, b.end) })
		slices.SortStableFunc(in.names, func(a, b nsOp) int { return cmp.Compare(a.end, b.end) })
	}
	p.tr.lines = p.seq
	return p.tr, nil
}

type traceParser struct {
	tr      *fsTrace
	seq     int
	last    int64
	names   map[string]int // path → inode, as things stand at the current line
	fds     map[int64]*openFile
	pending map[string]*call // pid → its unfinished call
}

func (p *traceParser) line(s string) error {
	seq := p.seq
	p.seq++
	pid, rest, ok := strings.Cut(s, " ")
	rest = strings.TrimLeft(rest, " ")
	stamp, rest, ok2 := strings.Cut(rest, " ")
	if !ok || !ok2 {
		return fmt.Errorf("no pid and time in %.80q", s)
	}
	sec, frac, _ := strings.Cut(stamp, ".")
	secs, err1 := strconv.ParseInt(sec, 10, 64)
	micros, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || len(frac) != 6 {
		return fmt.Errorf("time %q is not seconds.microseconds", stamp)
	}
	// strace writes lines as it sees the calls, so times only go up; a
	// clock stepped back is held at the last time.
	p.last = max(p.last, secs*1_000_000+micros)
	p.tr.ts = append(p.tr.ts, p.last)

	switch {
	case strings.HasPrefix(rest, "---"), strings.HasPrefix(rest, "+++"):
		return nil // signals and exits
	case strings.HasPrefix(rest, "<... "):
		name, more, ok := strings.Cut(strings.TrimPrefix(rest, "<... "), " resumed>")
		c := p.pending[pid]
		if !ok || c == nil || c.name != name {
			return fmt.Errorf("%.80q resumes nothing this pid started", rest)
		}
		delete(p.pending, pid)
		if strings.HasSuffix(more, " <unfinished ...>") {
			return fmt.Errorf("%.80q: a resumed call unfinished again", rest)
		}
		args, ret, ok := splitResult(more)
		if !ok {
			ret = "?" // the thread died in the call
		}
		c.raw += args
		c.args = splitArgs(c.raw)
		return p.exit(c, ret, seq)
	}
	open := strings.IndexByte(rest, '(')
	if open < 0 {
		return fmt.Errorf("no call in %.80q", rest)
	}
	c := &call{name: rest[:open], start: seq}
	body := rest[open+1:]
	if args, ok := strings.CutSuffix(body, " <unfinished ...>"); ok {
		c.raw = args
		c.args = splitArgs(args)
		if err := p.entry(c); err != nil {
			return err
		}
		p.pending[pid] = c
		return nil
	}
	args, ret, ok := splitResult(body)
	if !ok {
		return fmt.Errorf("no result in %.80q", rest)
	}
	c.raw = args
	c.args = splitArgs(args)
	if err := p.entry(c); err != nil {
		return err
	}
	return p.exit(c, ret, seq)
}

// splitResult splits "args)   = ret" (strace pads before the "=").
func splitResult(s string) (args, ret string, ok bool) {
	i := strings.LastIndex(s, "= ")
	if i < 0 {
		return "", "", false
	}
	args, ok = strings.CutSuffix(strings.TrimRight(s[:i], " "), ")")
	return args, s[i+2:], ok
}

// splitArgs splits strace's argument list at top-level commas. With -xx,
// strings hold only \xNN, so no comma or bracket is ever inside one.
func splitArgs(s string) []string {
	var out []string
	depth, from := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '{', '(':
			depth++
		case ']', '}', ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[from:i]))
				from = i + 1
			}
		}
	}
	if rest := strings.TrimSpace(s[from:]); rest != "" || len(out) > 0 {
		out = append(out, rest)
	}
	return out
}

// hexString decodes a -xx string argument.
func hexString(arg string) ([]byte, error) {
	if strings.HasSuffix(arg, "...") {
		return nil, fmt.Errorf("string cut short by strace (-s too small): %.40q", arg)
	}
	if len(arg) < 2 || arg[0] != '"' || arg[len(arg)-1] != '"' {
		return nil, fmt.Errorf("not a string: %.40q", arg)
	}
	s := arg[1 : len(arg)-1]
	if len(s)%4 != 0 {
		return nil, fmt.Errorf("not \\xNN bytes: %.40q", arg)
	}
	out := make([]byte, len(s)/4)
	for i := range out {
		if s[4*i] != '\\' || s[4*i+1] != 'x' {
			return nil, fmt.Errorf("not \\xNN bytes: %.40q", arg)
		}
		b, err := strconv.ParseUint(s[4*i+2:4*i+4], 16, 8)
		if err != nil {
			return nil, err
		}
		out[i] = byte(b)
	}
	return out, nil
}

func fdArg(c *call, i int) (int64, error) {
	if i >= len(c.args) {
		return 0, fmt.Errorf("%s: missing argument %d", c.name, i)
	}
	return strconv.ParseInt(c.args[i], 10, 64)
}

// pathPair reads the two paths of a rename or link: (old, new), or with
// at, (olddirfd, old, newdirfd, new).
func (p *traceParser) pathPair(c *call, at bool) (from, to string, err error) {
	fromI, toI, fromD, toD := 0, 1, -1, -1
	if at {
		fromI, toI, fromD, toD = 1, 3, 0, 2
	}
	if from, err = p.pathArg(c, fromD, fromI); err != nil {
		return "", "", err
	}
	to, err = p.pathArg(c, toD, toI)
	return from, to, err
}

// pathArg is argument i as a path, "" if it is not under the data folder.
// A relative path is refused unless it is relative to the working
// directory, which is never under the data folder.
func (p *traceParser) pathArg(c *call, dirfd, i int) (string, error) {
	if i >= len(c.args) {
		return "", fmt.Errorf("%s: missing argument %d", c.name, i)
	}
	b, err := hexString(c.args[i])
	if err != nil {
		return "", fmt.Errorf("%s: %w", c.name, err)
	}
	path := string(b)
	if !filepath.IsAbs(path) {
		if dirfd >= 0 && c.args[dirfd] != "AT_FDCWD" {
			return "", fmt.Errorf("%s relative to fd %s: not modelled", c.name, c.args[dirfd])
		}
		return "", nil
	}
	path = filepath.Clean(path)
	if path != p.tr.root && !strings.HasPrefix(path, p.tr.root+"/") {
		return "", nil
	}
	return path, nil
}

// entry handles what a call does when it starts: which file an fd names
// (another thread may reuse the number before this call returns), and a
// close, after which the number means nothing.
func (p *traceParser) entry(c *call) error {
	switch c.name {
	case "write", "pwrite64", "writev", "pwritev", "pwritev2", "ftruncate", "fallocate",
		"fsync", "fdatasync", "sync_file_range", "lseek", "close", "dup", "dup2", "dup3", "syncfs":
		fd, err := fdArg(c, 0)
		if err != nil {
			return err
		}
		c.fdNum, c.fd = fd, p.fds[fd]
		if c.fd != nil {
			p.tr.events = append(p.tr.events, c.start)
		}
		if c.name == "close" {
			delete(p.fds, fd)
		}
	case "close_range":
		lo, err1 := fdArg(c, 0)
		hi, err2 := strconv.ParseUint(c.args[1], 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("close_range(%v): not understood", c.args)
		}
		for fd := range p.fds {
			if fd >= lo && uint64(fd) <= hi {
				return fmt.Errorf("close_range over fd %d of the data folder: not modelled", fd)
			}
		}
	}
	return nil
}

// exit applies a call once it has returned (at line seq; never if it did
// not return before the trace stopped).
func (p *traceParser) exit(c *call, retText string, seq int) error {
	ret := int64(-1)
	if n, err := strconv.ParseInt(strings.Fields(retText + " ?")[0], 10, 64); err == nil {
		ret = n
	}
	if seq == never {
		ret = -2 // still running: assume it would have done what it asked
	}
	sp := span{c.start, seq}
	tracked := c.fd != nil
	switch c.name {
	case "open", "openat", "creat":
		pi, fi := 0, 1
		if c.name == "openat" {
			pi, fi = 1, 2
		}
		dirfd := -1
		if c.name == "openat" {
			dirfd = 0
		}
		path, err := p.pathArg(c, dirfd, pi)
		if err != nil || path == "" {
			return err
		}
		tracked = true
		flags := "O_CREAT|O_WRONLY|O_TRUNC"
		if c.name != "creat" {
			flags = c.args[fi]
		}
		if ret < 0 {
			if ret == -2 && strings.Contains(flags, "O_CREAT") {
				return fmt.Errorf("%s(%s) still running at the end of the trace: not modelled", c.name, path)
			}
			break
		}
		if strings.Contains(flags, "O_APPEND") {
			return fmt.Errorf("%s(%s, O_APPEND): not modelled", c.name, path)
		}
		ino, ok := p.names[path]
		if !ok {
			if !strings.Contains(flags, "O_CREAT") {
				return fmt.Errorf("%s(%s) opened a file the trace never made", c.name, path)
			}
			if ino, err = p.create(path, false, sp); err != nil {
				return err
			}
		} else if strings.Contains(flags, "O_TRUNC") && !p.tr.inodes[ino].dir {
			p.tr.inodes[ino].ops = append(p.tr.inodes[ino].ops, dataOp{span: sp, trunc: true})
		}
		p.fds[ret] = &openFile{ino: ino}
	case "mkdir", "mkdirat":
		pi, dirfd := 0, -1
		if c.name == "mkdirat" {
			pi, dirfd = 1, 0
		}
		path, err := p.pathArg(c, dirfd, pi)
		if err != nil || path == "" {
			return err
		}
		tracked = true
		if ret == -2 {
			return fmt.Errorf("%s(%s) still running at the end of the trace: not modelled", c.name, path)
		}
		if ret == 0 {
			if _, err := p.create(path, true, sp); err != nil {
				return err
			}
		}
	case "rename", "renameat", "renameat2":
		from, to, err := p.pathPair(c, c.name != "rename")
		if err != nil || (from == "" && to == "") {
			return err
		}
		tracked = true
		if ret == -2 {
			return fmt.Errorf("%s still running at the end of the trace: not modelled", c.name)
		}
		if ret != 0 {
			break
		}
		ino, ok := p.names[from]
		if from == "" || to == "" || !ok || filepath.Dir(from) != filepath.Dir(to) || p.tr.inodes[ino].dir {
			return fmt.Errorf("%s(%s, %s): only renames of files within one directory of the data folder are modelled", c.name, from, to)
		}
		parent := p.names[filepath.Dir(from)]
		p.tr.inodes[parent].names = append(p.tr.inodes[parent].names,
			nsOp{span: sp, kind: 'r', name: filepath.Base(from), to: filepath.Base(to)})
		delete(p.names, from)
		p.names[to] = ino
	case "unlink", "unlinkat", "rmdir":
		pi, dirfd := 0, -1
		if c.name == "unlinkat" {
			pi, dirfd = 1, 0
		}
		path, err := p.pathArg(c, dirfd, pi)
		if err != nil || path == "" {
			return err
		}
		tracked = true
		if ret == -2 {
			return fmt.Errorf("%s(%s) still running at the end of the trace: not modelled", c.name, path)
		}
		if ret != 0 {
			break
		}
		ino, ok := p.names[path]
		if !ok || p.tr.inodes[ino].dir {
			return fmt.Errorf("%s(%s): only unlinking files the trace made is modelled", c.name, path)
		}
		parent := p.names[filepath.Dir(path)]
		p.tr.inodes[parent].names = append(p.tr.inodes[parent].names, nsOp{span: sp, kind: 'u', name: filepath.Base(path)})
		delete(p.names, path)
	case "link", "linkat":
		from, to, err := p.pathPair(c, c.name == "linkat")
		if err != nil || (from == "" && to == "") {
			return err
		}
		tracked = true
		if ret == -2 {
			return fmt.Errorf("%s still running at the end of the trace: not modelled", c.name)
		}
		if ret != 0 {
			break
		}
		ino, ok := p.names[from]
		if _, taken := p.names[to]; taken || from == "" || to == "" || !ok || filepath.Dir(from) != filepath.Dir(to) || p.tr.inodes[ino].dir {
			return fmt.Errorf("%s(%s, %s): only links to files within one directory of the data folder are modelled", c.name, from, to)
		}
		parent := p.names[filepath.Dir(from)]
		p.tr.inodes[parent].names = append(p.tr.inodes[parent].names,
			nsOp{span: sp, kind: 'l', name: filepath.Base(from), to: filepath.Base(to)})
		p.names[to] = ino
	case "symlink", "symlinkat", "truncate":
		for i := range c.args {
			if strings.HasPrefix(c.args[i], "\"") {
				if path, err := p.pathArg(c, -1, i); err != nil || path != "" {
					return fmt.Errorf("%s on the data folder: not modelled (%v)", c.name, err)
				}
			}
		}
	case "sync":
		return errors.New("sync(): not modelled")
	case "write", "pwrite64":
		if c.fd == nil {
			break
		}
		in := p.tr.inodes[c.fd.ino]
		data, err := hexString(c.args[1])
		if err != nil {
			return fmt.Errorf("%s on %s: %w", c.name, in.path, err)
		}
		if ret >= 0 {
			data = data[:min(int64(len(data)), ret)]
		}
		off := c.fd.off
		if c.name == "pwrite64" {
			if off, err = strconv.ParseInt(c.args[3], 10, 64); err != nil {
				return err
			}
		} else if ret > 0 {
			c.fd.off += ret
		}
		if ret == -1 || len(data) == 0 {
			break
		}
		in.ops = append(in.ops, dataOp{span: sp, off: off, data: data})
		p.tr.bytes += int64(len(data))
	case "ftruncate":
		if c.fd == nil {
			break
		}
		size, err := strconv.ParseInt(c.args[1], 10, 64)
		if err != nil {
			return err
		}
		if ret != -1 {
			in := p.tr.inodes[c.fd.ino]
			in.ops = append(in.ops, dataOp{span: sp, trunc: true, size: size})
		}
	case "fsync", "fdatasync":
		if c.fd != nil && ret == 0 {
			in := p.tr.inodes[c.fd.ino]
			in.syncs = append(in.syncs, sp)
		}
	case "lseek":
		if c.fd != nil && ret >= 0 {
			c.fd.off = ret
		}
	case "dup", "dup2", "dup3":
		if c.fd != nil {
			return fmt.Errorf("%s of fd %d on %s: not modelled", c.name, c.fdNum, p.tr.inodes[c.fd.ino].path)
		}
		if ret >= 0 {
			delete(p.fds, ret) // dup2 onto a number closes what it named
		}
	case "writev", "pwritev", "pwritev2", "fallocate", "sync_file_range", "syncfs":
		if c.fd != nil {
			return fmt.Errorf("%s on %s: not modelled", c.name, p.tr.inodes[c.fd.ino].path)
		}
	}
	if tracked && seq != never {
		p.tr.events = append(p.tr.events, seq)
	}
	return nil
}

// create makes a new inode named path, in a directory the trace made (or
// the data folder).
func (p *traceParser) create(path string, dir bool, sp span) (int, error) {
	if _, ok := p.names[path]; ok {
		return 0, fmt.Errorf("create %s: it already exists", path)
	}
	parent, ok := p.names[filepath.Dir(path)]
	if !ok || !p.tr.inodes[parent].dir {
		return 0, fmt.Errorf("create %s: its directory is not one the trace made", path)
	}
	rel, _ := filepath.Rel(p.tr.root, path)
	ino := len(p.tr.inodes)
	p.tr.inodes = append(p.tr.inodes, &inode{path: rel, dir: dir})
	p.tr.inodes[parent].names = append(p.tr.inodes[parent].names, nsOp{span: sp, kind: 'c', name: filepath.Base(path), ino: ino})
	p.names[path] = ino
	return ino, nil
}

// durability says which completed syncs count.
type durability struct {
	// ignoreLastSync names inodes whose latest sync before the cut is
	// treated as never having happened: a wrong model, for the self-check.
	ignoreLastSync func(*inode) bool
	// dropUnsynced loses every unsynced change instead of drawing its fate.
	dropUnsynced bool
	// keepUnsynced keeps every change, as a clean stop would.
	keepUnsynced bool
}

// durableBefore is the line before which the calls on in that had returned
// are durable at a cut after line cut: the start of the latest sync that
// returned by then, or -1.
func (d durability) durableBefore(in *inode, cut int) int {
	var starts []int
	for _, s := range in.syncs {
		if s.end <= cut {
			starts = append(starts, s.start)
		}
	}
	if d.ignoreLastSync != nil && d.ignoreLastSync(in) && len(starts) > 0 {
		// syncs are in the order they returned; forget the last.
		starts = starts[:len(starts)-1]
	}
	if len(starts) == 0 {
		return -1
	}
	return slices.Max(starts)
}

// rebuilder rebuilds the data folder at cuts taken in increasing order,
// keeping each file's synced bytes from one cut to the next.
type rebuilder struct {
	tr     *fsTrace
	model  durability
	synced [][]byte // per inode: the file after its synced writes
	done   []int    // per inode: how many of its ops are in synced
	last   int
}

func newRebuilder(tr *fsTrace, model durability) *rebuilder {
	return &rebuilder{tr: tr, model: model, synced: make([][]byte, len(tr.inodes)), done: make([]int, len(tr.inodes)), last: -1}
}

// cutStats is what a cut did with the changes that were not yet synced.
type cutStats struct {
	writes, kept, dropped, torn int // unsynced writes and truncations of files in the rebuilt folder
	names, namesLost            int // unsynced creates, renames and unlinks
	lost                        []string
}

func (s cutStats) String() string {
	out := fmt.Sprintf("%d unsynced writes (%d kept, %d dropped, %d torn), %d unsynced name changes (%d lost)",
		s.writes, s.kept, s.dropped, s.torn, s.names, s.namesLost)
	if len(s.lost) > 0 {
		out += ": lost " + strings.Join(s.lost, ", ")
	}
	return out
}

// rebuild writes into dst (an empty directory) the data folder as it could
// be after power is lost right after line cut, drawing each unsynced change's
// fate from rng. The -shm file is left out: SQLite rebuilds it from the WAL.
func (r *rebuilder) rebuild(cut int, dst string, rng *rand.Rand) (cutStats, error) {
	if cut < r.last {
		return cutStats{}, fmt.Errorf("cut %d after cut %d: cuts must come in order", cut, r.last)
	}
	r.last = cut
	var st cutStats
	err := r.dir(0, cut, dst, rng, &st, map[int][]byte{})
	return st, err
}

// dir rebuilds directory ino into dst. files holds the files already
// rebuilt at this cut: a file with two names has one content.
func (r *rebuilder) dir(ino, cut int, dst string, rng *rand.Rand, st *cutStats, files map[int][]byte) error {
	in := r.tr.inodes[ino]
	durable := r.model.durableBefore(in, cut)
	// Names changed before the directory's last sync began are durable;
	// of the later ones, a prefix survives (journalling file systems keep
	// one directory's changes in order).
	var synced, unsynced []nsOp
	for _, op := range in.names {
		switch {
		case op.end < durable:
			synced = append(synced, op)
		case op.start <= cut:
			unsynced = append(unsynced, op)
		}
	}
	keep := 0
	switch {
	case r.model.keepUnsynced:
		keep = len(unsynced)
	case !r.model.dropUnsynced && len(unsynced) > 0:
		keep = rng.IntN(len(unsynced) + 1)
	}
	st.names += len(unsynced)
	st.namesLost += len(unsynced) - keep
	for _, op := range unsynced[keep:] {
		st.lost = append(st.lost, op.describe(in))
	}
	entries := map[string]int{}
	for _, op := range append(synced, unsynced[:keep]...) {
		switch op.kind {
		case 'c':
			entries[op.name] = op.ino
		case 'r', 'l':
			child, ok := entries[op.name]
			if !ok {
				return fmt.Errorf("%c of %s/%s, which is not there", op.kind, in.path, op.name)
			}
			if op.kind == 'r' {
				delete(entries, op.name)
			}
			entries[op.to] = child
		case 'u':
			delete(entries, op.name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		child := entries[name]
		path := filepath.Join(dst, name)
		if r.tr.inodes[child].dir {
			if err := os.Mkdir(path, 0o700); err != nil {
				return err
			}
			if err := r.dir(child, cut, path, rng, st, files); err != nil {
				return err
			}
			continue
		}
		if strings.HasSuffix(name, "-shm") {
			continue
		}
		data, ok := files[child]
		if !ok {
			data = r.file(child, cut, rng, st)
			files[child] = data
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func (op nsOp) describe(dir *inode) string {
	at := func(name string) string { return filepath.Join(dir.path, name) }
	switch op.kind {
	case 'c':
		return "create " + at(op.name)
	case 'r':
		return "rename " + at(op.name) + " → " + at(op.to)
	case 'l':
		return "link " + at(op.name) + " → " + at(op.to)
	}
	return "unlink " + at(op.name)
}

// file is the content of a file at the cut: its synced bytes, then each
// later write kept, dropped or torn.
func (r *rebuilder) file(ino, cut int, rng *rand.Rand, st *cutStats) []byte {
	in := r.tr.inodes[ino]
	durable := r.model.durableBefore(in, cut)
	for r.done[ino] < len(in.ops) && in.ops[r.done[ino]].end < durable {
		r.synced[ino] = apply(r.synced[ino], in.ops[r.done[ino]], -1, nil)
		r.done[ino]++
	}
	data := bytes.Clone(r.synced[ino])
	for _, op := range in.ops[r.done[ino]:] {
		if op.start > cut {
			continue
		}
		st.writes++
		fate := 1
		switch {
		case r.model.keepUnsynced:
			fate = 0
		case !r.model.dropUnsynced:
			fate = rng.IntN(3)
		}
		if op.trunc && fate == 2 {
			fate = rng.IntN(2) // a size change is not torn
		}
		switch fate {
		case 0:
			st.kept++
			data = apply(data, op, -1, nil)
		case 1:
			st.dropped++
		case 2:
			st.torn++
			data = apply(data, op, tearAt(op, rng), rng)
		}
	}
	return data
}

// tearAt picks how much of a write reaches the disk when it is torn: up to
// a 512-byte boundary of the file inside the write (possibly none of it).
func tearAt(op dataOp, rng *rand.Rand) int {
	var cuts []int
	for b := (op.off/512 + 1) * 512; b < op.off+int64(len(op.data)); b += 512 {
		cuts = append(cuts, int(b-op.off))
	}
	cuts = append(cuts, 0)
	return cuts[rng.IntN(len(cuts))]
}

// apply does op to data. A torn write (keep >= 0) writes its first keep
// bytes; the rest of its range keeps the old bytes or, if rng says so,
// gets garbage.
func apply(data []byte, op dataOp, keep int, rng *rand.Rand) []byte {
	if op.trunc {
		if int64(len(data)) >= op.size {
			return data[:op.size]
		}
		return append(data, make([]byte, op.size-int64(len(data)))...)
	}
	write := op.data
	if keep >= 0 {
		if rng.IntN(2) == 0 {
			write = op.data[:keep]
		} else {
			write = bytes.Clone(op.data)
			for i := keep; i < len(write); i++ {
				write[i] = byte(rng.Uint32())
			}
		}
	}
	end := op.off + int64(len(write))
	if int64(len(data)) < end {
		data = append(data, make([]byte, end-int64(len(data)))...)
	}
	copy(data[op.off:], write)
	return data
}
