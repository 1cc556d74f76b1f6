#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "proxy_sim/faults.h"
#include "proxy_sim/simulation.h"

namespace proxy_sim {

// What every connection thread of a Server shares.
struct SharedState {
  SharedState(const SimulationOptions& simulation_options, const FaultOptions& faults,
              bool use_wall_clock)
      : simulation(simulation_options), fault_options(faults), wall_clock(use_wall_clock) {
    fault.store(faults.mode);
  }

  std::mutex mutex;  // guards simulation and restart_count
  Simulation simulation;
  std::uint64_t restart_count = 0;   // restart-faulted snapshots since SetFault
  const FaultOptions fault_options;  // fault_options.mode is only the initial mode
  const bool wall_clock;
  std::atomic<FaultMode> fault{FaultMode::kNone};
  std::atomic<std::uint64_t> snapshot_requests{0};
  std::atomic<std::uint64_t> connections_accepted{0};
  int stop_fd = -1;  // readable once the server stops
};

}  // namespace proxy_sim
