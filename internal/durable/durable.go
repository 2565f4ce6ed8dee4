// Package durable makes file and folder names survive a power loss, for
// the embedded store and the key files.
package durable

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
// leave a key file, the keys folder or the whole data folder missing
// although everything written after it survived. SQLite syncs the
// database's folder when it makes a journal or WAL there, never the
// folders above it.

// SyncDir makes the names in dir (files made, renamed or removed there)
// survive a power loss. Windows cannot sync a folder (NTFS journals names
// itself), nor can some file systems (EINVAL); there it does nothing.
func SyncDir(dir string) error {
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

// MkdirAll is os.MkdirAll whose folders, once it returns, survive a
// power loss: it syncs the parent of dir and of every folder it made.
func MkdirAll(dir string, perm fs.FileMode) error {
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
		if err := SyncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

// WriteNew writes a new file at path, mode 0600, whole or not at all, and
// only if nothing is there yet (fs.ErrExist otherwise): the bytes go to a
// synced temporary file that is then linked to path (which, like O_EXCL,
// fails if path exists), and the folder is synced. After a power loss,
// path is either absent or complete.
func WriteNew(path string, data []byte) error {
	return put(path, data, os.Link)
}

// Replace writes path, mode 0600, replacing what is there whole or not at
// all: a synced temporary file is renamed over it and the folder synced.
// After a power loss, path holds either the old bytes or the new.
func Replace(path string, data []byte) error {
	return put(path, data, os.Rename)
}

// put writes data to a synced temporary file beside path, moves it into
// place with place(tmp, path), and syncs the folder.
func put(path string, data []byte, place func(tmp, path string) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".new-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a link, the temporary name; after a rename, a no-op
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
	if err := place(tmp, path); err != nil {
		return err
	}
	// The temporary name goes before the folder is synced, so it is never
	// left behind by a later power loss.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return SyncDir(filepath.Dir(path))
}
