// PowerLossVfs: an in-memory SQLite VFS that can lose power (H2, docs/RELIABILITY.md), modelled on
// SQLite's own crash-test VFS (src/test6.c).
//
// Every file lives in memory as two images: the bytes as of its last xSync (durable) and the
// changes since then (writes and truncations, in order). The directory is modelled the same way:
// creating and deleting a name is durable only once the directory is synced, which happens where
// SQLite's unix VFS syncs it: at the first xSync of a newly created rollback journal or WAL, and in
// xDelete with its dirSync flag. A power cut computes the disk a reboot would find: the durable
// images plus a seeded choice of the unsynced changes, each kept, dropped or (a write, sector by
// sector) garbled. Writes never touch bytes outside their range, as SQLITE_IOCAP_POWERSAFE_OVERWRITE
// (which the unix VFS reports) promises. The -shm wal-index is not a file here: it lives with the
// open database, and is gone after a power cut or once its last user closed it, as the unix VFS
// rebuilds it then. Locks are no-ops: one connection at a time (a second one is a broken invariant).
//
// From the cut on, every change fails (SQLITE_IOERR_*), so the process can acknowledge nothing more;
// reads still see the files as the process left them (its page cache). reboot() then puts the
// crash image in place. Thread-safe. Each instance registers its name process-wide: one per name.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace wik::testing {

class PowerLossVfs {
 public:
  // What becomes of the changes a power cut finds unsynced.
  enum class Survival {
    kNone,    // every one is lost
    kRandom,  // each is kept, lost or (a write's sector) garbled, by the seed
    kAll,     // every one reaches the disk (the process died, the machine did not)
  };

  // The durable files at one moment, content by name, to start trials from.
  struct Image {
    std::map<std::string, std::string> files;
  };

  // Registers the VFS as `name` (not the default VFS). An empty file system.
  explicit PowerLossVfs(std::string name = "wik-power-loss");
  // Unregisters it. REQUIRES: no file is open.
  ~PowerLossVfs();
  PowerLossVfs(const PowerLossVfs&) = delete;
  PowerLossVfs& operator=(const PowerLossVfs&) = delete;

  // Returns the name SQLite knows the VFS by (SqliteOptions::vfs).
  const std::string& name() const;

  // Makes every unsynced change durable, as a clean shutdown whose OS flushed its caches.
  void flush_all();
  // Returns the durable state (unsynced changes left out).
  std::shared_ptr<const Image> durable_image() const;
  // Replaces every file with `image`'s, with power on and the I/O count at zero. REQUIRES: no file is open.
  void restore(const Image& image);

  // Cuts the power just before the `operation`th change (1-based: writes, truncations, syncs,
  // deletions and creations of named files) counted from now; that change and all after it fail.
  void cut_at_operation(std::uint64_t operation, std::uint64_t seed, Survival survival);
  // Cuts the power now (a pending cut_at_operation is dropped).
  void cut_now(std::uint64_t seed, Survival survival);
  bool power_lost() const;
  // Returns the changes counted since restore().
  std::uint64_t operations() const;
  // Boots on the disk the cut left: every file becomes its crash image, durable; power is on again.
  // REQUIRES: power_lost() and no file is open.
  void reboot();

  // The unsynced changes the last cut found, by fate (writes count per piece: a sector of a write).
  struct CutReport {
    std::uint64_t kept = 0;
    std::uint64_t dropped = 0;
    std::uint64_t garbled = 0;
  };
  CutReport last_cut() const;

  struct State;  // the file system; in power_loss_vfs.cpp

 private:
  std::unique_ptr<State> state_;
};

}  // namespace wik::testing
