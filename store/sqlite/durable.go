package sqlite

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// SQLite syncs the database's folder when it makes a journal or WAL there,
// never the folders above it. A data folder Sayso makes must itself be
// synced into its parent, or a power loss can take the whole folder away,
// acknowledged log entries and all. (keys/ has the same two helpers.)

// syncDir makes the names in dir survive a power loss. Windows cannot sync
// a folder (NTFS journals names itself), nor can some file systems
// (EINVAL); there it does nothing.
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
