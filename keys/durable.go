package keys

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// A file's fsync makes its bytes durable, not its name: the name is in the
// folder, which needs an fsync of its own. Without it, a power loss can
// leave a key file or the keys folder missing although everything written
// after it (wrapped keys, signed checkpoints) survived.

// syncDir makes the names in dir (files made, renamed or removed there)
// survive a power loss. Windows cannot sync a folder (NTFS journals names
// itself), nor can some file systems (EINVAL); there it does nothing.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) {
		err = nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// mkdirAllDurable is os.MkdirAll whose folders, once it returns, survive a
// power loss: it syncs the parent of dir and of every folder it made.
func mkdirAllDurable(dir string, perm fs.FileMode) error {
	dir = filepath.Clean(dir)
	var made []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		made = append(made, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		return err
	}
	// Also when dir was there already: an earlier process may have made it
	// and died before it was synced.
	if len(made) == 0 || made[0] != dir {
		made = append(made, dir)
	}
	for _, d := range made {
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

// writeNew writes a new file at path, mode 0600, whole or not at all, and
// only if nothing is there yet (fs.ErrExist otherwise): the bytes go to a
// temporary file that is synced, then linked to path (which, like O_EXCL,
// fails if path exists), then the folder is synced. After a power loss,
// path is either absent or complete.
func writeNew(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".new-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once it is removed below
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	if err := os.Remove(tmp); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}
