#include "reliability/power_loss_vfs.h"

#include <sqlite3.h>

#include <wik/result.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

namespace wik::testing {
namespace {

// The unix VFS's default sector size: a write is torn at these boundaries by a cut.
constexpr std::int64_t kSectorSize = 4096;
// Of the unsynced changes a kRandom cut finds, the share (in %) kept, then dropped; the rest of the
// write pieces are garbled. Truncations and directory changes are kept or dropped, half each.
constexpr unsigned kKeptPercent = 45;
constexpr unsigned kDroppedPercent = 45;

// One change to a file since its last sync: a write of `bytes` at `offset`, or a truncation (or
// extension) to `offset` bytes.
struct Change {
  bool is_write = true;
  std::int64_t offset = 0;
  std::string bytes;
};

void apply_write(std::string& content, std::int64_t offset, std::string_view bytes) {
  const auto end = static_cast<std::size_t>(offset) + bytes.size();
  if (content.size() < end) content.resize(end, '\0');
  std::copy(bytes.begin(), bytes.end(), content.begin() + offset);
}

void apply_change(std::string& content, const Change& change) {
  if (change.is_write) {
    apply_write(content, change.offset, change.bytes);
  } else {
    content.resize(static_cast<std::size_t>(change.offset), '\0');
  }
}

// A file's bytes: the durable image, the changes since its last sync, and what the process sees.
struct Inode {
  std::string durable;
  std::string current;
  std::vector<Change> pending;

  void sync() {
    for (const Change& change : pending) apply_change(durable, change);
    pending.clear();
  }
};

// A name created (inode set) or deleted (inode null) since the directory's last sync.
struct DirectoryChange {
  std::string name;
  std::shared_ptr<Inode> inode;
};

// The wal-index of one database: regions shared by its users, gone when the last one leaves.
struct SharedMemory {
  std::vector<std::unique_ptr<char[]>> regions;
  int users = 0;
};

enum class Fate { kKeep, kDrop, kGarble };

}  // namespace

struct PowerLossVfs::State {
  std::string name;
  sqlite3_vfs vfs{};
  sqlite3_vfs* base = nullptr;  // the default VFS: time, randomness, sleeping

  mutable std::mutex mutex;
  std::map<std::string, std::shared_ptr<Inode>> names;          // the directory the process sees
  std::map<std::string, std::shared_ptr<Inode>> durable_names;  // as of the directory's last sync
  std::vector<DirectoryChange> directory_changes;               // since then, in order
  std::map<std::string, SharedMemory> shared_memory;            // by database name
  int open_files = 0;
  bool database_open = false;
  std::uint64_t operations = 0;
  std::optional<std::uint64_t> cut_at;  // the operation count the armed cut fires at
  std::uint64_t cut_seed = 0;
  Survival cut_survival = Survival::kNone;
  bool power_lost = false;
  Image crash_image;
  CutReport report;

  // Counts one change to a named file and returns whether it may happen: false once the power is
  // lost, or when this change is the one the armed cut fires at.
  bool begin_change() {
    if (power_lost) return false;
    ++operations;
    if (cut_at && operations >= *cut_at) {
      cut(cut_seed, cut_survival);
      return false;
    }
    return true;
  }

  void sync_directory() {
    durable_names = names;
    directory_changes.clear();
  }

  // Loses the power: computes the disk a reboot finds and fails every change from now on.
  void cut(std::uint64_t seed, Survival survival) {
    std::mt19937_64 random(seed);
    report = {};
    const auto fate = [&](bool may_garble) {
      Fate chosen = Fate::kKeep;
      if (survival == Survival::kNone) {
        chosen = Fate::kDrop;
      } else if (survival == Survival::kRandom) {
        const auto roll = static_cast<unsigned>(random() % 100);
        if (!may_garble) {
          chosen = roll < 50 ? Fate::kKeep : Fate::kDrop;
        } else {
          chosen = roll < kKeptPercent                     ? Fate::kKeep
                   : roll < kKeptPercent + kDroppedPercent ? Fate::kDrop
                                                           : Fate::kGarble;
        }
      }
      ++(chosen == Fate::kKeep ? report.kept : chosen == Fate::kDrop ? report.dropped : report.garbled);
      return chosen;
    };
    std::map<std::string, std::shared_ptr<Inode>> directory = durable_names;
    for (const DirectoryChange& change : directory_changes) {
      if (fate(false) != Fate::kKeep) continue;
      if (change.inode) {
        directory[change.name] = change.inode;
      } else {
        directory.erase(change.name);
      }
    }
    crash_image.files.clear();
    for (const auto& [file_name, inode] : directory) {
      std::string content = inode->durable;
      for (const Change& change : inode->pending) {
        if (!change.is_write) {
          if (fate(false) == Fate::kKeep) apply_change(content, change);
          continue;
        }
        // Each sector's part of the write reaches the disk or not on its own.
        std::int64_t offset = change.offset;
        std::string_view rest = change.bytes;
        while (!rest.empty()) {
          const auto piece_size =
              std::min<std::size_t>(rest.size(), static_cast<std::size_t>(kSectorSize - offset % kSectorSize));
          std::string piece(rest.substr(0, piece_size));
          const Fate piece_fate = fate(true);
          if (piece_fate == Fate::kGarble) {
            for (char& byte : piece) byte = static_cast<char>(random());
          }
          if (piece_fate != Fate::kDrop) apply_write(content, offset, piece);
          offset += static_cast<std::int64_t>(piece_size);
          rest.remove_prefix(piece_size);
        }
      }
      crash_image.files.emplace(file_name, std::move(content));
    }
    power_lost = true;
    cut_at.reset();
  }

  void load(const Image& image) {
    if (open_files != 0) fatal("PowerLossVfs: files replaced while open");
    names.clear();
    for (const auto& [file_name, content] : image.files) {
      names.emplace(file_name, std::make_shared<Inode>(Inode{.durable = content, .current = content, .pending = {}}));
    }
    sync_directory();
    shared_memory.clear();
    operations = 0;
    cut_at.reset();
    power_lost = false;
  }
};

namespace {

using State = PowerLossVfs::State;

// One open file. SQLite allocates szOsFile bytes and hands them to xOpen; `base` must come first.
struct OpenFile {
  sqlite3_file base;
  State* state = nullptr;
  std::shared_ptr<Inode> inode;
  std::string name;  // empty for a temporary file
  bool main_database = false;
  bool delete_on_close = false;
  bool sync_directory = false;  // a new journal or WAL: its first sync also syncs the directory
  bool uses_shared_memory = false;
};

OpenFile& file_of(sqlite3_file* file) { return *reinterpret_cast<OpenFile*>(file); }
State& state_of(sqlite3_vfs* vfs) { return *static_cast<State*>(vfs->pAppData); }

void leave_shared_memory(OpenFile& file) {
  if (!file.uses_shared_memory) return;
  file.uses_shared_memory = false;
  auto found = file.state->shared_memory.find(file.name);
  if (found != file.state->shared_memory.end() && --found->second.users == 0) file.state->shared_memory.erase(found);
}

int close_file(sqlite3_file* raw) {
  OpenFile& file = file_of(raw);
  State& state = *file.state;
  {
    const std::lock_guard lock(state.mutex);
    leave_shared_memory(file);
    if (file.main_database) state.database_open = false;
    if (file.delete_on_close && !file.name.empty()) {
      auto named = state.names.find(file.name);
      if (named != state.names.end() && named->second == file.inode) state.names.erase(named);
    }
    --state.open_files;
  }
  file.~OpenFile();
  return SQLITE_OK;
}

int read_file(sqlite3_file* raw, void* buffer, int amount, sqlite3_int64 offset) {
  OpenFile& file = file_of(raw);
  const std::lock_guard lock(file.state->mutex);
  const std::string& content = file.inode->current;
  const auto begin = std::min(content.size(), static_cast<std::size_t>(offset));
  const auto available = std::min(content.size() - begin, static_cast<std::size_t>(amount));
  std::memcpy(buffer, content.data() + begin, available);
  if (available == static_cast<std::size_t>(amount)) return SQLITE_OK;
  std::memset(static_cast<char*>(buffer) + available, 0, static_cast<std::size_t>(amount) - available);
  return SQLITE_IOERR_SHORT_READ;
}

// Records `change` to `file` (unsynced) and applies it to what the process sees.
int change_file(OpenFile& file, Change&& change, int error_code) {
  const std::lock_guard lock(file.state->mutex);
  const bool temporary = file.name.empty();
  if (!temporary && !file.state->begin_change()) return error_code;
  apply_change(file.inode->current, change);
  if (!temporary) file.inode->pending.push_back(std::move(change));
  return SQLITE_OK;
}

int write_file(sqlite3_file* raw, const void* buffer, int amount, sqlite3_int64 offset) {
  return change_file(file_of(raw),
                     {.is_write = true,
                      .offset = offset,
                      .bytes = std::string(static_cast<const char*>(buffer), static_cast<std::size_t>(amount))},
                     SQLITE_IOERR_WRITE);
}

int truncate_file(sqlite3_file* raw, sqlite3_int64 size) {
  return change_file(file_of(raw), {.is_write = false, .offset = size, .bytes = {}}, SQLITE_IOERR_TRUNCATE);
}

int sync_file(sqlite3_file* raw, int /*flags: every sync is a full one*/) {
  OpenFile& file = file_of(raw);
  State& state = *file.state;
  const std::lock_guard lock(state.mutex);
  if (file.name.empty()) return SQLITE_OK;
  if (!state.begin_change()) return SQLITE_IOERR_FSYNC;
  file.inode->sync();
  if (file.sync_directory) {
    state.sync_directory();
    file.sync_directory = false;
  }
  return SQLITE_OK;
}

int file_size(sqlite3_file* raw, sqlite3_int64* size) {
  OpenFile& file = file_of(raw);
  const std::lock_guard lock(file.state->mutex);
  *size = static_cast<sqlite3_int64>(file.inode->current.size());
  return SQLITE_OK;
}

int lock_file(sqlite3_file*, int) { return SQLITE_OK; }
int check_reserved_lock(sqlite3_file*, int* reserved) {
  *reserved = 0;
  return SQLITE_OK;
}
int file_control(sqlite3_file*, int, void*) { return SQLITE_NOTFOUND; }
int sector_size(sqlite3_file*) { return static_cast<int>(kSectorSize); }
int device_characteristics(sqlite3_file*) { return SQLITE_IOCAP_POWERSAFE_OVERWRITE; }

int map_shared_memory(sqlite3_file* raw, int region, int region_size, int extend, void volatile** address) {
  OpenFile& file = file_of(raw);
  const std::lock_guard lock(file.state->mutex);
  SharedMemory& memory = file.state->shared_memory[file.name];
  if (!file.uses_shared_memory) {
    file.uses_shared_memory = true;
    ++memory.users;
  }
  const auto index = static_cast<std::size_t>(region);
  if (index >= memory.regions.size() && extend == 0) {
    *address = nullptr;
    return SQLITE_OK;
  }
  while (memory.regions.size() <= index) {
    memory.regions.push_back(std::make_unique<char[]>(static_cast<std::size_t>(region_size)));  // zeroed
  }
  *address = memory.regions[index].get();
  return SQLITE_OK;
}

int lock_shared_memory(sqlite3_file*, int, int, int) { return SQLITE_OK; }
void shared_memory_barrier(sqlite3_file*) { std::atomic_thread_fence(std::memory_order_seq_cst); }
int unmap_shared_memory(sqlite3_file* raw, int /*delete_flag*/) {
  OpenFile& file = file_of(raw);
  const std::lock_guard lock(file.state->mutex);
  leave_shared_memory(file);
  return SQLITE_OK;
}

constexpr sqlite3_io_methods kFileMethods = {
    .iVersion = 2,
    .xClose = close_file,
    .xRead = read_file,
    .xWrite = write_file,
    .xTruncate = truncate_file,
    .xSync = sync_file,
    .xFileSize = file_size,
    .xLock = lock_file,
    .xUnlock = lock_file,
    .xCheckReservedLock = check_reserved_lock,
    .xFileControl = file_control,
    .xSectorSize = sector_size,
    .xDeviceCharacteristics = device_characteristics,
    .xShmMap = map_shared_memory,
    .xShmLock = lock_shared_memory,
    .xShmBarrier = shared_memory_barrier,
    .xShmUnmap = unmap_shared_memory,
    .xFetch = nullptr,
    .xUnfetch = nullptr,
};

int open_file(sqlite3_vfs* vfs, const char* name, sqlite3_file* raw, int flags, int* out_flags) {
  State& state = state_of(vfs);
  const std::lock_guard lock(state.mutex);
  raw->pMethods = nullptr;  // SQLite calls no xClose unless xOpen set the methods
  std::shared_ptr<Inode> inode;
  bool created = false;
  if (name == nullptr) {
    inode = std::make_shared<Inode>();
  } else if (auto named = state.names.find(name); named != state.names.end()) {
    inode = named->second;
  } else {
    if ((flags & SQLITE_OPEN_CREATE) == 0 || !state.begin_change()) return SQLITE_CANTOPEN;
    inode = std::make_shared<Inode>();
    state.names.emplace(name, inode);
    state.directory_changes.push_back({.name = name, .inode = inode});
    created = true;
  }
  const bool main_database = (flags & SQLITE_OPEN_MAIN_DB) != 0;
  if (main_database) {
    if (state.database_open) fatal("PowerLossVfs: a second connection (locks are not modelled)");
    state.database_open = true;
  }
  auto* file = new (raw) OpenFile{
      .base = {},
      .state = &state,
      .inode = std::move(inode),
      .name = name == nullptr ? std::string() : std::string(name),
      .main_database = main_database,
      .delete_on_close = (flags & SQLITE_OPEN_DELETEONCLOSE) != 0 || name == nullptr,
      .sync_directory =
          created && (flags & (SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_WAL | SQLITE_OPEN_SUPER_JOURNAL)) != 0,
      .uses_shared_memory = false,
  };
  ++state.open_files;
  if (out_flags != nullptr) *out_flags = flags;
  file->base.pMethods = &kFileMethods;
  return SQLITE_OK;
}

int delete_file(sqlite3_vfs* vfs, const char* name, int sync_directory) {
  State& state = state_of(vfs);
  const std::lock_guard lock(state.mutex);
  if (!state.begin_change()) return SQLITE_IOERR_DELETE;
  if (state.names.erase(name) == 0) return SQLITE_IOERR_DELETE_NOENT;
  state.directory_changes.push_back({.name = name, .inode = nullptr});
  if (sync_directory != 0) state.sync_directory();
  return SQLITE_OK;
}

int access_file(sqlite3_vfs* vfs, const char* name, int flags, int* result) {
  State& state = state_of(vfs);
  const std::lock_guard lock(state.mutex);
  const auto named = state.names.find(name);
  // As the unix VFS: an empty file does not "exist" (a zero-length WAL or journal is no log).
  *result = named != state.names.end() && (flags != SQLITE_ACCESS_EXISTS || !named->second->current.empty());
  return SQLITE_OK;
}

int full_pathname(sqlite3_vfs*, const char* name, int size, char* out) {
  sqlite3_snprintf(size, out, "%s", name);
  return SQLITE_OK;
}

void* dl_open(sqlite3_vfs* vfs, const char* name) { return state_of(vfs).base->xDlOpen(state_of(vfs).base, name); }
void dl_error(sqlite3_vfs* vfs, int size, char* out) { state_of(vfs).base->xDlError(state_of(vfs).base, size, out); }
void (*dl_sym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return state_of(vfs).base->xDlSym(state_of(vfs).base, handle, symbol);
}
void dl_close(sqlite3_vfs* vfs, void* handle) { state_of(vfs).base->xDlClose(state_of(vfs).base, handle); }
int randomness(sqlite3_vfs* vfs, int size, char* out) {
  return state_of(vfs).base->xRandomness(state_of(vfs).base, size, out);
}
int sleep_for(sqlite3_vfs* vfs, int microseconds) {
  return state_of(vfs).base->xSleep(state_of(vfs).base, microseconds);
}
int current_time(sqlite3_vfs* vfs, double* now) { return state_of(vfs).base->xCurrentTime(state_of(vfs).base, now); }
int last_error(sqlite3_vfs* vfs, int size, char* out) {
  return state_of(vfs).base->xGetLastError(state_of(vfs).base, size, out);
}
int current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* now) {
  return state_of(vfs).base->xCurrentTimeInt64(state_of(vfs).base, now);
}

}  // namespace

PowerLossVfs::PowerLossVfs(std::string name) : state_(std::make_unique<State>()) {
  state_->name = std::move(name);
  state_->base = sqlite3_vfs_find(nullptr);
  if (state_->base == nullptr || state_->base->iVersion < 2) fatal("PowerLossVfs: no default SQLite VFS to lean on");
  state_->vfs = sqlite3_vfs{
      .iVersion = 2,
      .szOsFile = static_cast<int>(sizeof(OpenFile)),
      .mxPathname = 512,
      .pNext = nullptr,
      .zName = state_->name.c_str(),
      .pAppData = state_.get(),
      .xOpen = open_file,
      .xDelete = delete_file,
      .xAccess = access_file,
      .xFullPathname = full_pathname,
      .xDlOpen = dl_open,
      .xDlError = dl_error,
      .xDlSym = dl_sym,
      .xDlClose = dl_close,
      .xRandomness = randomness,
      .xSleep = sleep_for,
      .xCurrentTime = current_time,
      .xGetLastError = last_error,
      .xCurrentTimeInt64 = current_time_int64,
      .xSetSystemCall = nullptr,
      .xGetSystemCall = nullptr,
      .xNextSystemCall = nullptr,
  };
  if (sqlite3_vfs_register(&state_->vfs, 0) != SQLITE_OK) fatal("PowerLossVfs: cannot register the VFS");
}

PowerLossVfs::~PowerLossVfs() {
  if (state_->open_files != 0) fatal("PowerLossVfs: destroyed with open files");
  sqlite3_vfs_unregister(&state_->vfs);
}

const std::string& PowerLossVfs::name() const { return state_->name; }

void PowerLossVfs::flush_all() {
  const std::lock_guard lock(state_->mutex);
  for (auto& [file_name, inode] : state_->names) inode->sync();
  state_->sync_directory();
}

std::shared_ptr<const PowerLossVfs::Image> PowerLossVfs::durable_image() const {
  const std::lock_guard lock(state_->mutex);
  auto image = std::make_shared<Image>();
  for (const auto& [file_name, inode] : state_->durable_names) image->files.emplace(file_name, inode->durable);
  return image;
}

void PowerLossVfs::restore(const Image& image) {
  const std::lock_guard lock(state_->mutex);
  state_->load(image);
}

void PowerLossVfs::cut_at_operation(std::uint64_t operation, std::uint64_t seed, Survival survival) {
  const std::lock_guard lock(state_->mutex);
  state_->cut_at = state_->operations + std::max<std::uint64_t>(operation, 1);
  state_->cut_seed = seed;
  state_->cut_survival = survival;
}

void PowerLossVfs::cut_now(std::uint64_t seed, Survival survival) {
  const std::lock_guard lock(state_->mutex);
  if (!state_->power_lost) state_->cut(seed, survival);
}

bool PowerLossVfs::power_lost() const {
  const std::lock_guard lock(state_->mutex);
  return state_->power_lost;
}

std::uint64_t PowerLossVfs::operations() const {
  const std::lock_guard lock(state_->mutex);
  return state_->operations;
}

void PowerLossVfs::reboot() {
  const std::lock_guard lock(state_->mutex);
  if (!state_->power_lost) fatal("PowerLossVfs: reboot without a power cut");
  const Image image = std::move(state_->crash_image);
  state_->crash_image = {};
  state_->load(image);
}

PowerLossVfs::CutReport PowerLossVfs::last_cut() const {
  const std::lock_guard lock(state_->mutex);
  return state_->report;
}

}  // namespace wik::testing
