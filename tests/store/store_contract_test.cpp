// The Store contract, run on every engine (STYLE.md practice 12): each operation, the exact error
// of each failure, and isolation between communities.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/claim_floors.h"
#include "store/fault_injecting_database.h"
#include "store/migrations.h"
#include "store/store_test_fixture.h"

#include <iostream>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

namespace wik::store::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;
using wik::testing::HasError;
using wik::testing::IsOk;
using namespace std::chrono_literals;

template <class Engine>
class StoreContractTest : public StoreTest<Engine> {};
TYPED_TEST_SUITE(StoreContractTest, Engines, EngineNames);

// Whether each completion was completed.
std::vector<bool> completed(const std::vector<CompletionOutcome>& outcomes) {
  std::vector<bool> out;
  for (const CompletionOutcome& outcome : outcomes) out.push_back(outcome.completed);
  return out;
}

InboxEventInput event(std::string dedupe_key, std::string payload = "{\"entry\":[]}") {
  return {.topic = "page", .dedupe_key = std::move(dedupe_key), .payload = std::move(payload)};
}

// ---- Communities and installations

TYPED_TEST(StoreContractTest, RejectsMalformedCommunityIds) {
  EXPECT_THAT(this->store_->community(""), HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(this->store_->community(std::string(65, '1')), HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(this->store_->community("12 34"), HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(this->store_->community(std::string(64, '1')), IsOk());
}

TYPED_TEST(StoreContractTest, InstallationRoundTripsWithTokenSealedAtRest) {
  Result<Account> installer = this->store_->create_account("admin@vendor.test", Secret("pw"), "admin");
  ASSERT_THAT(installer, IsOk());
  CommunityScope community = this->scope("1001");
  ASSERT_THAT(community.put_installation({.community_name = "Acme",
                                          .access_token = AccessToken("CANARY-token-1001"),
                                          .permissions = {"message", "read_group_content"},
                                          .installed_by = installer->id}),
              IsOk());

  Result<Installation> read = community.installation();
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->community_id, "1001");
  EXPECT_EQ(read->community_name, "Acme");
  EXPECT_EQ(read->access_token.expose(), "CANARY-token-1001");
  EXPECT_THAT(read->permissions, ElementsAre("message", "read_group_content"));
  EXPECT_EQ(read->installed_by, installer->id);
  EXPECT_EQ(read->state, InstallState::kActive);
  EXPECT_EQ(read->installed_at, this->clock_.now());

  Rows stored = this->query("SELECT access_token_sealed FROM installations WHERE community_id = '1001'");
  ASSERT_THAT(stored, SizeIs(1));
  EXPECT_THAT(stored[0].text(0), StartsWith("wdk1."));
  EXPECT_THAT(stored[0].text(0), Not(HasSubstr("CANARY")));
}

TYPED_TEST(StoreContractTest, UnknownInstallationIsNotFound) {
  EXPECT_THAT(this->scope("2002").installation(), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(this->scope("2002").install_state(), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(this->scope("2002").revoke_installation(), HasError(ErrorCode::kNotFound));
}

TYPED_TEST(StoreContractTest, RevokeForgetsTheTokenAndReinstallRestoresIt) {
  CommunityScope community = this->install("3003", "first-token");
  EXPECT_EQ(community.install_state().value(), InstallState::kActive);
  ASSERT_THAT(community.revoke_installation(), IsOk());
  EXPECT_EQ(community.install_state().value(), InstallState::kRevoked);
  Result<Installation> revoked = community.installation();
  ASSERT_THAT(revoked, IsOk());
  EXPECT_EQ(revoked->state, InstallState::kRevoked);
  EXPECT_TRUE(revoked->access_token.empty());
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM installations WHERE access_token_sealed <> ''"), 0);

  this->clock_.advance(60s);
  this->install("3003", "second-token");
  Result<Installation> again = community.installation();
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->state, InstallState::kActive);
  EXPECT_EQ(again->access_token.expose(), "second-token");
  EXPECT_EQ(again->installed_at, this->clock_.now());
}

TYPED_TEST(StoreContractTest, ARevokeOfAnOlderInstallationLeavesAReinstallAlone) {
  const TimePoint first_install = this->clock_.now();
  CommunityScope community = this->install("3004", "first-token");
  this->clock_.advance(60s);
  this->install("3004", "second-token");  // reinstalled after the uninstall being acted on

  EXPECT_THAT(community.revoke_installation(first_install + 1s), HasError(ErrorCode::kConflict));
  Result<Installation> kept = community.installation();
  ASSERT_THAT(kept, IsOk());
  EXPECT_EQ(kept->state, InstallState::kActive);
  EXPECT_EQ(kept->access_token.expose(), "second-token");

  ASSERT_THAT(community.revoke_installation(this->clock_.now() + 1s), IsOk());
  EXPECT_EQ(community.install_state().value(), InstallState::kRevoked);
  EXPECT_THAT(this->scope("3005").revoke_installation(this->clock_.now()), HasError(ErrorCode::kNotFound));
}

TYPED_TEST(StoreContractTest, UninstallRevokesAndRequestsThePurgeInOneStep) {
  CommunityScope community = this->install("3006", "token-3006");
  Result<Uninstalled> uninstalled = community.uninstall("deauthorize callback", this->clock_.now() + 1h);
  ASSERT_THAT(uninstalled, IsOk());
  EXPECT_TRUE(uninstalled->revoked);
  EXPECT_EQ(uninstalled->purge.state, PurgeState::kPending);
  EXPECT_EQ(uninstalled->purge.community_id, "3006");
  EXPECT_EQ(uninstalled->purge.deadline, this->clock_.now() + 1h);
  EXPECT_EQ(community.install_state().value(), InstallState::kRevoked);
  EXPECT_TRUE(community.installation().value().access_token.empty());
  Result<std::vector<AuditEntry>> trail = this->store_->audit_trail("3006");
  ASSERT_THAT(trail, IsOk());
  std::vector<std::string> actions;
  for (const AuditEntry& entry : *trail) actions.push_back(entry.action + ":" + entry.detail);
  EXPECT_THAT(actions, ElementsAre("installed:", "uninstall_noticed:deauthorize callback", "revoked:",
                                   "purge_requested:"));

  // A replay changes nothing and finds the same job; so does the uninstall of a community never installed.
  Result<Uninstalled> again = community.uninstall("deauthorize callback", this->clock_.now() + 2h);
  ASSERT_THAT(again, IsOk());
  EXPECT_FALSE(again->revoked);
  EXPECT_EQ(again->purge.id, uninstalled->purge.id);
  Result<Uninstalled> stranger = this->scope("3007").uninstall("wik purge", this->clock_.now());
  ASSERT_THAT(stranger, IsOk());
  EXPECT_FALSE(stranger->revoked);
  EXPECT_EQ(stranger->purge.community_id, "3007");
}

TYPED_TEST(StoreContractTest, AnUninstallOlderThanTheInstallationChangesNothing) {
  const TimePoint notice_time = this->clock_.now();
  this->clock_.advance(60s);
  CommunityScope community = this->install("3008", "token-3008");
  EXPECT_THAT(community.uninstall("deauthorize callback", this->clock_.now() + 1h, notice_time),
              HasError(ErrorCode::kConflict));
  EXPECT_EQ(community.installation().value().access_token.expose(), "token-3008");
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM purge_jobs"), 0);
}

// An uninstall and a reinstall of one community at the same moment: whichever commits first, the
// end state is consistent, never an active installation with a purge pending that would destroy it.
TYPED_TEST(StoreContractTest, AnUninstallRacingAReinstallNeverLeavesAPurgeOverTheInstallation) {
  constexpr int kRounds = 30;
  int reinstalled_last = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string id = std::to_string(5000 + round);
    CommunityScope community = this->install(id, "first-token");
    Result<Uninstalled> uninstalled = Error(ErrorCode::kInternal, "not run");
    Result<Installation> reinstalled = Error(ErrorCode::kInternal, "not run");
    std::thread uninstaller([&] { uninstalled = community.uninstall("race", this->clock_.now() + 1h); });
    reinstalled = community.put_installation({.community_name = "Again", .access_token = AccessToken("second-token")});
    uninstaller.join();
    ASSERT_THAT(uninstalled, IsOk());
    ASSERT_THAT(reinstalled, IsOk());
    const std::int64_t open_purges =
        this->count("SELECT COUNT(*) FROM purge_jobs WHERE community_id = $1", {id});
    if (community.install_state().value() == InstallState::kActive) {
      ++reinstalled_last;
      EXPECT_EQ(open_purges, 0) << "round " << round << ": a purge is pending over the active reinstallation";
      EXPECT_EQ(community.installation().value().access_token.expose(), "second-token");
    } else {
      EXPECT_EQ(open_purges, 1) << "round " << round << ": the uninstall left no purge";
    }
  }
  std::cout << "install/uninstall race: " << reinstalled_last << " of " << kRounds << " rounds ended installed\n";
}

TYPED_TEST(StoreContractTest, ListsInstallationsWithoutTokens) {
  this->install("20");
  this->install("10");
  ASSERT_THAT(this->scope("20").revoke_installation(), IsOk());
  Result<std::vector<InstallationSummary>> all = this->store_->list_installations();
  ASSERT_THAT(all, IsOk());
  ASSERT_THAT(*all, SizeIs(2));
  EXPECT_EQ((*all)[0].community_id, "10");
  EXPECT_EQ((*all)[0].state, InstallState::kActive);
  EXPECT_EQ((*all)[1].community_id, "20");
  EXPECT_EQ((*all)[1].state, InstallState::kRevoked);
}

// ---- Community health (what the admin pages show)

TYPED_TEST(StoreContractTest, SummariesCarryInstallerPermissionsAndAnEmptyHealthAtFirst) {
  const Account installer = this->store_->create_account("Ops@Vendor.test", Secret("pw"), "admin").value();
  ASSERT_THAT(this->scope("40").put_installation({.community_name = "Forty",
                                                  .access_token = AccessToken("CANARY-token-40"),
                                                  .permissions = {"message", "read_user_email"},
                                                  .installed_by = installer.id}),
              IsOk());
  const TimePoint installed_at = this->clock_.now();
  this->clock_.advance(5s);
  this->install("41");

  Result<std::vector<InstallationSummary>> all = this->store_->list_installations();
  ASSERT_THAT(all, IsOk());
  ASSERT_THAT(*all, SizeIs(2));
  const InstallationSummary& forty = (*all)[0];
  EXPECT_EQ(forty.community_name, "Forty");
  EXPECT_EQ(forty.installed_at, installed_at);
  EXPECT_THAT(forty.permissions, ElementsAre("message", "read_user_email"));
  EXPECT_EQ(forty.installed_by_email, "ops@vendor.test");
  EXPECT_EQ(forty.health.last_webhook_at, std::nullopt);
  EXPECT_EQ(forty.health.last_graph_ok_at, std::nullopt);
  EXPECT_EQ(forty.health.last_graph_error, "");
  EXPECT_EQ(forty.health.last_graph_error_at, std::nullopt);
  EXPECT_EQ(forty.health.token_checked_at, std::nullopt);
  EXPECT_EQ((*all)[1].installed_by_email, std::nullopt);
  EXPECT_EQ((*all)[1].installed_at, installed_at + 5s);

  Result<InstallationSummary> one = this->scope("40").installation_summary();
  ASSERT_THAT(one, IsOk());
  EXPECT_EQ(one->community_id, "40");
  EXPECT_EQ(one->installed_by_email, "ops@vendor.test");
  EXPECT_THAT(this->scope("42").installation_summary(), HasError(ErrorCode::kNotFound));
}

TYPED_TEST(StoreContractTest, RecordsTheLastWebhookOfEachCommunityOnlyForEventsStored) {
  CommunityScope a = this->install("51");
  CommunityScope b = this->install("52");
  const auto webhook_of = [&](std::string_view community) {
    return this->scope(community).installation_summary().value().health.last_webhook_at;
  };
  ASSERT_THAT(a.insert_inbox_event(event("a1")), IsOk());
  const TimePoint first = this->clock_.now();
  EXPECT_EQ(webhook_of("51"), first);
  EXPECT_EQ(webhook_of("52"), std::nullopt);

  this->clock_.advance(10s);
  EXPECT_EQ(a.insert_inbox_event(event("a1")).value(), InsertOutcome::kDuplicate);
  EXPECT_EQ(webhook_of("51"), first) << "a duplicate is not news";

  // One delivery naming both communities and one never installed: one row per community stored.
  const CommunityScope stranger = this->scope("59");
  const std::vector<ScopedInboxEvent> delivery = {
      {.community = &a, .event = event("a2")}, {.community = &b, .event = event("b1")},
      {.community = &b, .event = event("b2")}, {.community = &stranger, .event = event("x1")}};
  const std::vector<Result<InsertOutcome>> outcomes = this->store_->insert_inbox_events(delivery);
  ASSERT_THAT(outcomes, SizeIs(4));
  EXPECT_THAT(outcomes[3], HasError(ErrorCode::kNotFound));
  EXPECT_EQ(webhook_of("51"), first + 10s);
  EXPECT_EQ(webhook_of("52"), first + 10s);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM community_health"), 2);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM community_health WHERE community_id = '59'"), 0);
}

TYPED_TEST(StoreContractTest, RecordsTheOutcomeOfEachReplySentToGraph) {
  CommunityScope a = this->install("61");
  ASSERT_THAT(a.insert_inbox_event(event("m1")), IsOk());
  const ClaimedEvent claimed = this->store_->claim_inbox_events("w", 1, 30s).value().at(0);
  const std::vector<std::string> replies = {"r1", "r2", "r3"};
  ASSERT_THAT(this->store_->complete_inbox_event(claimed, replies), IsOk());
  const auto health = [&] { return a.installation_summary().value().health; };

  this->clock_.advance(1s);
  const OutboxMessage r1 = this->store_->claim_outbox(1, 30s).value().at(0);
  ASSERT_THAT(this->store_->finish_outbox(r1), IsOk());
  EXPECT_EQ(health().last_graph_ok_at, this->clock_.now());
  EXPECT_EQ(health().last_graph_error_at, std::nullopt);

  this->clock_.advance(1s);
  const OutboxMessage r2 = this->store_->claim_outbox(1, 30s).value().at(0);
  ASSERT_THAT(this->store_->fail_outbox(r2, "graph error 2: temporarily unavailable", this->clock_.now() + 1s),
              IsOk());
  EXPECT_EQ(health().last_graph_error, "graph error 2: temporarily unavailable");
  EXPECT_EQ(health().last_graph_error_at, this->clock_.now());
  EXPECT_EQ(health().last_graph_ok_at, this->clock_.now() - 1s) << "an error keeps the last success";

  this->clock_.advance(2s);
  const OutboxMessage again = this->store_->claim_outbox(1, 30s).value().at(0);
  ASSERT_THAT(this->store_->fail_outbox(again, "graph error 100: no such person", std::nullopt), IsOk());
  EXPECT_EQ(health().last_graph_error, "graph error 100: no such person");
  EXPECT_EQ(health().last_graph_error_at, this->clock_.now());

  // A lost claim records nothing.
  this->clock_.advance(1s);
  const OutboxMessage r3 = this->store_->claim_outbox(1, 30s).value().at(0);
  ASSERT_THAT(this->store_->finish_outbox(r3), IsOk());
  const TimePoint finished = this->clock_.now();
  this->clock_.advance(1s);
  EXPECT_THAT(this->store_->fail_outbox(r3, "late", std::nullopt), HasError(ErrorCode::kConflict));
  EXPECT_THAT(this->store_->finish_outbox(r3), HasError(ErrorCode::kConflict));
  EXPECT_EQ(health().last_graph_ok_at, finished);
  EXPECT_EQ(health().last_graph_error, "graph error 100: no such person");
}

TYPED_TEST(StoreContractTest, RecordsTokenChecksAndGraphErrorsButNeverForACommunityWithoutAKey) {
  CommunityScope a = this->install("71");
  this->clock_.advance(1s);
  ASSERT_THAT(a.record_token_valid(), IsOk());
  const TimePoint checked = this->clock_.now();
  CommunityHealth health = a.installation_summary().value().health;
  EXPECT_EQ(health.token_checked_at, checked);
  EXPECT_EQ(health.last_graph_ok_at, checked);

  this->clock_.advance(1s);
  ASSERT_THAT(a.record_graph_error("graph error 4: application request limit reached"), IsOk());
  health = a.installation_summary().value().health;
  EXPECT_EQ(health.last_graph_error, "graph error 4: application request limit reached");
  EXPECT_EQ(health.last_graph_error_at, checked + 1s);
  EXPECT_EQ(health.token_checked_at, checked) << "a failed check keeps the last good one";

  CommunityScope never = this->scope("72");
  EXPECT_THAT(never.record_token_valid(), IsOk());
  EXPECT_THAT(never.record_graph_error("graph error 190"), IsOk());
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM community_health WHERE community_id = '72'"), 0);
}

TYPED_TEST(StoreContractTest, ATokenCheckRenamesTheActiveInstallationAndRefusesAnUnfitName) {
  CommunityScope a = this->install("73");
  ASSERT_THAT(a.record_token_valid("Acme Worldwide"), IsOk());
  EXPECT_EQ(a.installation().value().community_name, "Acme Worldwide");
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM audit_log WHERE action = 'community_renamed'"), 1);
  ASSERT_THAT(a.record_token_valid("Acme Worldwide"), IsOk());  // the same name: nothing to do
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM audit_log WHERE action = 'community_renamed'"), 1);

  for (const std::string& unfit : {std::string(), std::string("Acme\tCorp"), std::string("Acme\xC2\x85"),
                                  std::string("\xFF\xFE"), std::string(256, 'a')}) {
    EXPECT_THAT(a.record_token_valid(unfit), HasError(ErrorCode::kInvalidArgument));
  }
  EXPECT_EQ(a.installation().value().community_name, "Acme Worldwide");
  ASSERT_THAT(a.revoke_installation(), IsOk());
  ASSERT_THAT(a.record_token_valid("Too Late"), IsOk());
  EXPECT_EQ(a.installation().value().community_name, "Acme Worldwide") << "a revoked installation keeps its name";
}

TYPED_TEST(StoreContractTest, AScopeCannotReachAnotherCommunitysRows) {
  CommunityScope a = this->install("111", "token-of-a");
  CommunityScope b = this->scope("222");
  ASSERT_THAT(a.put_identity("user-1", "one@a.test"), IsOk());
  ASSERT_THAT(a.insert_inbox_event(event("mid-1")), IsOk());

  // B sees none of A's rows, through any call.
  EXPECT_THAT(b.installation(), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(b.identity("user-1"), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(b.link_identity("user-1", 1), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(b.revoke_installation(), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(b.insert_inbox_event(event("mid-2")), HasError(ErrorCode::kNotFound));  // B is not installed

  // A's dead letter cannot be listed or replayed through B.
  Result<std::vector<ClaimedEvent>> claimed = this->store_->claim_inbox_events("w", 10, 30s);
  ASSERT_THAT(claimed, IsOk());
  ASSERT_THAT(*claimed, SizeIs(1));
  StoreOptions one_attempt = test_options();
  one_attempt.max_attempts = 1;
  this->reopen(one_attempt);
  a = this->scope("111");
  b = this->install("222", "token-of-b");
  ASSERT_THAT(this->store_->fail_inbox_event(claimed->front(), "handler failed", this->clock_.now()), IsOk());
  Result<std::vector<DeadLetter>> dead = a.dead_letters();
  ASSERT_THAT(dead, IsOk());
  ASSERT_THAT(*dead, SizeIs(1));
  EXPECT_THAT(b.dead_letters(), IsOk());
  EXPECT_THAT(b.dead_letters().value(), IsEmpty());
  EXPECT_THAT(b.replay_dead_letter(dead->front().id), HasError(ErrorCode::kNotFound));

  // A sealed token copied into B's row does not open there: the seal names its community.
  Rows a_token = this->query("SELECT access_token_sealed FROM installations WHERE community_id = '111'");
  ASSERT_THAT(a_token, SizeIs(1));
  ASSERT_THAT(transact_value(this->raw(),
                             [&](Transaction& tx) {
                               return tx.execute(
                                   "UPDATE installations SET access_token_sealed = $1 WHERE community_id = '222'",
                                   {a_token[0].text(0)});
                             }),
              IsOk());
  EXPECT_THAT(b.installation(), HasError(ErrorCode::kBadSignature));
}

// ---- Inbox

TYPED_TEST(StoreContractTest, StoresAnEventOnceAndReportsDuplicates) {
  CommunityScope a = this->install("1");
  CommunityScope b = this->install("2");
  EXPECT_THAT(a.insert_inbox_event(event("mid.1", "CANARY-payload")), IsOk());
  Result<InsertOutcome> again = a.insert_inbox_event(event("mid.1", "other"));
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(*again, InsertOutcome::kDuplicate);
  // The same key in another community is another event, never a duplicate.
  Result<InsertOutcome> other = b.insert_inbox_event(event("mid.1"));
  ASSERT_THAT(other, IsOk());
  EXPECT_EQ(*other, InsertOutcome::kStored);

  Rows stored = this->query("SELECT payload_sealed FROM inbox WHERE community_id = '1'");
  ASSERT_THAT(stored, SizeIs(1));
  EXPECT_THAT(stored[0].text(0), StartsWith("wdk1."));
  EXPECT_THAT(stored[0].text(0), Not(HasSubstr("CANARY")));
}

TYPED_TEST(StoreContractTest, StoresTheEventsOfOneDeliveryTogether) {
  CommunityScope a = this->install("1");
  CommunityScope b = this->install("2");
  CommunityScope stranger = this->scope("3");  // never installed
  CommunityScope gone = this->install("4");
  ASSERT_THAT(gone.revoke_installation(), IsOk());  // its key stays until the purge; a delivery is refused
  ASSERT_THAT(a.insert_inbox_event(event("seen-before")), IsOk());
  std::vector<ScopedInboxEvent> delivery;
  for (int i = 0; i < 700; ++i) delivery.push_back({&(i % 2 == 0 ? a : b), event("m" + std::to_string(i))});
  delivery.push_back({&a, event("m0")});           // twice in the same delivery
  delivery.push_back({&a, event("seen-before")});  // stored by an earlier delivery
  delivery.push_back({&stranger, event("x")});
  delivery.push_back({&gone, event("y")});

  const auto outcomes = this->store_->insert_inbox_events(delivery);
  ASSERT_THAT(outcomes, SizeIs(delivery.size()));
  for (std::size_t i = 0; i < 700; ++i) {
    ASSERT_THAT(outcomes[i], IsOk());
    EXPECT_EQ(*outcomes[i], InsertOutcome::kStored);
  }
  EXPECT_EQ(outcomes[700].value(), InsertOutcome::kDuplicate);
  EXPECT_EQ(outcomes[701].value(), InsertOutcome::kDuplicate);
  EXPECT_THAT(outcomes[702], HasError(ErrorCode::kNotFound));
  EXPECT_THAT(outcomes[703], HasError(ErrorCode::kNotFound));
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM inbox", {}), 701);
  EXPECT_THAT(this->store_->insert_inbox_events({}), IsEmpty());
}

TYPED_TEST(StoreContractTest, SubmittedDeliveriesAreReportedOnceDurableWithoutAThreadWaiting) {
  CommunityScope a = this->install("1");
  CommunityScope stranger = this->scope("3");
  constexpr std::size_t kDeliveries = 40;
  std::vector<std::vector<ScopedInboxEvent>> deliveries(kDeliveries);
  std::mutex mutex;
  std::map<std::size_t, std::vector<Result<InsertOutcome>>> reported;  // by delivery
  for (std::size_t d = 0; d < kDeliveries; ++d) {
    for (std::size_t i = 0; i < 3; ++i) deliveries[d].push_back({&a, event("d" + std::to_string(d) + "." + std::to_string(i))});
    deliveries[d].push_back({&a, event("d" + std::to_string(d == 0 ? 0 : d - 1) + ".0")});  // a duplicate
    deliveries[d].push_back({&stranger, event("x")});
    this->store_->submit_inbox_events(deliveries[d], [&, d](std::vector<Result<InsertOutcome>> outcomes) {
      const std::lock_guard lock(mutex);
      EXPECT_TRUE(reported.emplace(d, std::move(outcomes)).second) << "delivery " << d << " reported twice";
    });
  }
  this->store_->wait_for_submitted_inbox_events();
  const std::lock_guard lock(mutex);
  ASSERT_THAT(reported, SizeIs(kDeliveries));
  for (const auto& [d, outcomes] : reported) {
    ASSERT_THAT(outcomes, SizeIs(5)) << "delivery " << d;
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(outcomes[i].value(), InsertOutcome::kStored) << "delivery " << d;
    EXPECT_EQ(outcomes[3].value(), InsertOutcome::kDuplicate) << "delivery " << d;
    EXPECT_THAT(outcomes[4], HasError(ErrorCode::kNotFound));
  }
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM inbox", {}), 3 * kDeliveries);
  bool empty_reported = false;
  this->store_->submit_inbox_events({}, [&](std::vector<Result<InsertOutcome>> outcomes) {
    empty_reported = outcomes.empty();
  });
  EXPECT_TRUE(empty_reported);
}

TYPED_TEST(StoreContractTest, BatchesOfEverySizeUseAFewStatementTexts) {
  // A statement's text grows with the rows or ids it carries; the store builds them in power-of-two
  // sizes only, so that an engine caches a few of each shape (not one per batch size ever seen) and
  // every batch still stores, claims and completes exactly its own events.
  this->install("1");
  FaultPlan plan(0, Fault::kBeforeCommit);
  Result<std::unique_ptr<Database>> database = this->engine_.open();
  ASSERT_THAT(database, IsOk());
  Result<std::unique_ptr<Store>> store =
      Store::open(std::make_unique<FaultInjectingDatabase>(std::move(*database), plan), this->ring_, this->clock_,
                  test_options());
  ASSERT_THAT(store, IsOk());
  CommunityScope community = (*store)->community("1").value();
  constexpr std::size_t kLargest = 130;  // past 64 rows an INSERT and 128 ids an IN list
  std::size_t sent = 0;
  for (std::size_t size = 1; size <= kLargest; ++size) {
    std::vector<ScopedInboxEvent> delivery;
    for (std::size_t i = 0; i < size; ++i) delivery.push_back({&community, event("e" + std::to_string(sent++))});
    for (const Result<InsertOutcome>& outcome : (*store)->insert_inbox_events(delivery)) {
      ASSERT_THAT(outcome, IsOk());
      EXPECT_EQ(*outcome, InsertOutcome::kStored);
    }
  }
  std::size_t handled = 0;
  for (std::size_t size = 1; size <= kLargest; ++size) {
    Result<std::vector<ClaimedEvent>> claimed = (*store)->claim_inbox_events("w", size, 30s, kLargest);
    ASSERT_THAT(claimed, IsOk());
    ASSERT_THAT(*claimed, SizeIs(size));
    std::vector<InboxCompletion> completions;
    for (const ClaimedEvent& claim : *claimed) {
      EXPECT_EQ(claim.dedupe_key, "e" + std::to_string(handled++));  // each once, oldest first
      completions.push_back({.event = claim, .replies = {}});
    }
    Result<std::vector<CompletionOutcome>> outcomes = (*store)->complete_inbox_events(completions);
    ASSERT_THAT(outcomes, IsOk());
    for (const CompletionOutcome& outcome : *outcomes) EXPECT_TRUE(outcome.completed);
  }
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM inbox WHERE state = 'pending'", {}),
            static_cast<std::int64_t>(sent - handled));
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM inbox WHERE state = 'done'", {}), static_cast<std::int64_t>(handled));

  std::map<std::string, std::size_t> texts_of_shape;
  for (const std::string& text : plan.statement_texts()) {
    if (text.starts_with("INSERT INTO inbox ")) ++texts_of_shape["insert"];
    if (text.starts_with("UPDATE inbox SET state = 'done'")) ++texts_of_shape["complete"];
    if (text.starts_with("UPDATE inbox SET claimed_by = $1")) ++texts_of_shape["lease"];
  }
  EXPECT_EQ(texts_of_shape["insert"], 7U);     // 1, 2, 4, …, 64 rows
  EXPECT_EQ(texts_of_shape["complete"], 9U);  // 1, 2, 4, …, 256 ids (130 padded to 256)
  EXPECT_EQ(texts_of_shape["lease"], 9U);
}

TYPED_TEST(StoreContractTest, RefusesEventsOfCommunitiesWithoutAKey) {
  EXPECT_THAT(this->scope("404").insert_inbox_event(event("m")), HasError(ErrorCode::kNotFound));
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM inbox"), 0);
}

TYPED_TEST(StoreContractTest, ClaimsKeepPerCommunityOrder) {
  CommunityScope a = this->install("1");
  CommunityScope b = this->install("2");
  ASSERT_THAT(a.insert_inbox_event(event("a1", "payload-a1")), IsOk());
  ASSERT_THAT(a.insert_inbox_event(event("a2", "payload-a2")), IsOk());
  ASSERT_THAT(b.insert_inbox_event(event("b1", "payload-b1")), IsOk());

  Result<std::vector<ClaimedEvent>> first = this->store_->claim_inbox_events("w1", 10, 30s);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(*first, SizeIs(2));  // a2 waits behind a1
  EXPECT_EQ((*first)[0].dedupe_key, "a1");
  EXPECT_EQ((*first)[0].community_id, "1");
  EXPECT_EQ((*first)[0].payload, "payload-a1");
  EXPECT_EQ((*first)[0].topic, "page");
  EXPECT_EQ((*first)[1].dedupe_key, "b1");
  EXPECT_EQ((*first)[1].community_id, "2");
  EXPECT_THAT(this->store_->claim_inbox_events("w2", 10, 30s).value(), IsEmpty());

  ASSERT_THAT(this->store_->complete_inbox_event((*first)[0]), IsOk());
  Result<std::vector<ClaimedEvent>> next = this->store_->claim_inbox_events("w2", 10, 30s);
  ASSERT_THAT(next, IsOk());
  ASSERT_THAT(*next, SizeIs(1));
  EXPECT_EQ((*next)[0].dedupe_key, "a2");
  // A handled event still deduplicates, and keeps no payload.
  EXPECT_EQ(a.insert_inbox_event(event("a1")).value(), InsertOutcome::kDuplicate);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM inbox WHERE state = 'done' AND payload_sealed = ''"), 1);
}

TYPED_TEST(StoreContractTest, HandledEventsAreForgottenOnlyPastTheRetention) {
  CommunityScope a = this->install("61");
  for (const char* key : {"done", "failing", "waiting"}) ASSERT_THAT(a.insert_inbox_event(event(key)), IsOk());
  std::vector<ClaimedEvent> claimed = this->store_->claim_inbox_events("w", 2, 30s, 2).value();
  ASSERT_THAT(claimed, SizeIs(2));
  ASSERT_THAT(this->store_->complete_inbox_event(claimed[0]), IsOk());
  ASSERT_THAT(this->store_->fail_inbox_event(claimed[1], "handler failed", std::nullopt), IsOk());  // a dead letter

  this->clock_.advance(72h - 1s);
  EXPECT_EQ(this->store_->forget_handled_events(72h).value(), 0);
  EXPECT_EQ(a.insert_inbox_event(event("done")).value(), InsertOutcome::kDuplicate) << "still within the window";
  this->clock_.advance(2s);
  EXPECT_EQ(this->store_->forget_handled_events(72h).value(), 1);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM inbox WHERE community_id = '61'"), 2) << "the pending and the dead stay";
  EXPECT_THAT(a.dead_letters().value(), SizeIs(1));
  EXPECT_EQ(a.insert_inbox_event(event("done")).value(), InsertOutcome::kStored) << "past the window it is new";
}

TYPED_TEST(StoreContractTest, ClaimsRunsOfEachCommunityFromItsOldestOnly) {
  CommunityScope a = this->install("1");
  CommunityScope b = this->install("2");
  for (const char* key : {"a1", "a2", "a3", "a4", "a5"}) ASSERT_THAT(a.insert_inbox_event(event(key)), IsOk());
  for (const char* key : {"b1", "b2"}) ASSERT_THAT(b.insert_inbox_event(event(key)), IsOk());
  const auto keys = [](const std::vector<ClaimedEvent>& events) {
    std::vector<std::string> out;
    for (const ClaimedEvent& e : events) out.push_back(e.dedupe_key);
    return out;
  };

  std::vector<ClaimedEvent> first = this->store_->claim_inbox_events("w1", 10, 30s, 3).value();
  EXPECT_THAT(keys(first), ElementsAre("a1", "a2", "a3", "b1", "b2"));
  // a4 is not claimable while a1..a3 are leased, nor is anything of b.
  EXPECT_THAT(this->store_->claim_inbox_events("w2", 10, 30s, 3).value(), IsEmpty());

  // The batch completes together, except a3, b1 and b2, whose claims were given up: they come back.
  const std::vector<std::string> replies = {"reply-a2"};
  const std::vector<InboxCompletion> done = {{.event = first[0]}, {.event = first[1], .replies = replies}};
  EXPECT_THAT(completed(this->store_->complete_inbox_events(done).value()), ElementsAre(true, true));
  ASSERT_THAT(this->store_->release_inbox_events(std::span(first).subspan(2)), IsOk());
  EXPECT_THAT(this->store_->complete_inbox_event(first[2]), HasError(ErrorCode::kConflict));
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM outbox"), 1);

  std::vector<ClaimedEvent> second = this->store_->claim_inbox_events("w2", 10, 30s, 2).value();
  EXPECT_THAT(keys(second), ElementsAre("a3", "a4", "b1", "b2"));
  // A completion whose claim was lost is reported and does not undo the others.
  const std::vector<InboxCompletion> mixed = {{.event = second[0]}, {.event = first[2]}, {.event = second[1]}};
  EXPECT_THAT(completed(this->store_->complete_inbox_events(mixed).value()), ElementsAre(true, false, true));
  ASSERT_THAT(this->store_->release_inbox_events(std::span(second).subspan(2)), IsOk());

  // A head waiting for its retry holds back the rest of its community.
  std::vector<ClaimedEvent> last = this->store_->claim_inbox_events("w2", 10, 30s, 5).value();
  ASSERT_THAT(keys(last), ElementsAre("a5", "b1", "b2"));
  ASSERT_THAT(this->store_->fail_inbox_event(last[1], "busy", this->clock_.now() + 10s), IsOk());
  ASSERT_THAT(this->store_->release_inbox_events(std::span(last).subspan(2)), IsOk());
  EXPECT_THAT(this->store_->claim_inbox_events("w3", 10, 30s, 5).value(), IsEmpty());
  this->clock_.advance(11s);
  EXPECT_THAT(keys(this->store_->claim_inbox_events("w3", 10, 30s, 5).value()), ElementsAre("b1", "b2"));
}

TYPED_TEST(StoreContractTest, ACompletionsWritesCommitWithItAndAFailedOneHoldsBackItsCommunity) {
  ASSERT_THAT(this->store_->apply_app_schema("CREATE TABLE notes (community_id TEXT NOT NULL, note TEXT NOT NULL)"),
              IsOk());
  ASSERT_THAT(this->store_->register_app_table({.table = "notes", .community_column = "community_id"}), IsOk());
  CommunityScope a = this->install("1");
  CommunityScope b = this->install("2");
  for (const char* key : {"a1", "a2", "a3"}) ASSERT_THAT(a.insert_inbox_event(event(key)), IsOk());
  ASSERT_THAT(b.insert_inbox_event(event("b1")), IsOk());
  std::vector<ClaimedEvent> claimed = this->store_->claim_inbox_events("w1", 10, 30s, 5).value();
  ASSERT_EQ(claimed.size(), 4u);  // a1, a2, a3, b1

  const auto note = [](std::string community, std::string text) -> CompletionWrite {
    return [community, text](Transaction& tx) -> Result<void> {
      Result<std::int64_t> written = tx.execute("INSERT INTO notes (community_id, note) VALUES ($1, $2)", {community, text});
      if (!written) return written.error();
      return ok_result();
    };
  };
  // a2's second write is a statement the engine refuses (on PostgreSQL it aborts the
  // transaction until the savepoint is rolled back).
  const CompletionWrite refused = [](Transaction& tx) -> Result<void> {
    Result<std::int64_t> written = tx.execute("INSERT INTO no_such_table (x) VALUES (1)");
    if (!written) return written.error();
    return ok_result();
  };
  const std::vector<CompletionWrite> a1_writes = {note("1", "a1")};
  const std::vector<CompletionWrite> a2_writes = {note("1", "a2"), refused};
  const std::vector<CompletionWrite> a3_writes = {note("1", "a3")};
  const std::vector<CompletionWrite> b1_writes = {note("2", "b1")};
  const std::vector<std::string> replies = {"reply-a3"};
  const std::vector<std::string> b1_replies = {"reply-b1"};
  const std::vector<InboxCompletion> completions = {
      {.event = claimed[0], .writes = a1_writes},
      {.event = claimed[1], .writes = a2_writes},
      {.event = claimed[2], .replies = replies, .writes = a3_writes},
      {.event = claimed[3], .replies = b1_replies, .writes = b1_writes}};
  std::vector<CompletionOutcome> outcomes = this->store_->complete_inbox_events(completions).value();
  ASSERT_EQ(outcomes.size(), 4u);
  EXPECT_TRUE(outcomes[0].completed);
  EXPECT_FALSE(outcomes[1].completed);
  ASSERT_TRUE(outcomes[1].write_error.has_value());
  EXPECT_FALSE(outcomes[2].completed);
  EXPECT_TRUE(outcomes[2].behind_failure);
  EXPECT_TRUE(outcomes[3].completed);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM notes WHERE community_id = '1' AND note = 'a1'"), 1);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM notes WHERE community_id = '1'"), 1);  // a2's first write went too
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM notes WHERE community_id = '2'"), 1);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM outbox"), 1);  // b1's reply; a3's waits with a3

  // a2 and a3 still hold their claims: a2's failure is recorded and a3 is given back.
  EXPECT_THAT(this->store_->fail_inbox_event(claimed[1], "write failed", this->clock_.now()), IsOk());
  ASSERT_THAT(this->store_->release_inbox_events(std::span(claimed).subspan(2, 1)), IsOk());
  std::vector<ClaimedEvent> again = this->store_->claim_inbox_events("w2", 10, 30s, 5).value();
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].dedupe_key, "a2");
  EXPECT_EQ(again[1].dedupe_key, "a3");
}

TYPED_TEST(StoreContractTest, ACompletionAfterThePurgeWritesNothing) {
  ASSERT_THAT(this->store_->apply_app_schema("CREATE TABLE notes (community_id TEXT NOT NULL, note TEXT NOT NULL)"),
              IsOk());
  ASSERT_THAT(this->store_->register_app_table({.table = "notes", .community_column = "community_id"}), IsOk());
  CommunityScope a = this->install("1");
  ASSERT_THAT(a.insert_inbox_event(event("a1")), IsOk());
  std::vector<ClaimedEvent> claimed = this->store_->claim_inbox_events("w1", 10, 30s, 5).value();
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_THAT(a.revoke_installation(), IsOk());
  Result<PurgeJob> job = a.request_purge(this->clock_.now() + 1h);
  ASSERT_THAT(job, IsOk());
  ASSERT_THAT(this->store_->run_purge_job(job->id), IsOk());
  const std::vector<CompletionWrite> writes = {[](Transaction& tx) -> Result<void> {
    Result<std::int64_t> written = tx.execute("INSERT INTO notes (community_id, note) VALUES ('1', 'late')");
    if (!written) return written.error();
    return ok_result();
  }};
  const std::vector<InboxCompletion> completions = {{.event = claimed[0], .writes = writes}};
  Result<std::vector<CompletionOutcome>> outcomes = this->store_->complete_inbox_events(completions);
  ASSERT_THAT(outcomes, IsOk());
  EXPECT_FALSE(outcomes->front().completed);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM notes"), 0);
}

TYPED_TEST(StoreContractTest, AnAbandonedClaimIsReclaimedAfterItsLease) {
  CommunityScope a = this->install("1");
  ASSERT_THAT(a.insert_inbox_event(event("m1")), IsOk());
  Result<std::vector<ClaimedEvent>> crashed = this->store_->claim_inbox_events("crashed-worker", 10, 30s);
  ASSERT_THAT(crashed, IsOk());
  ASSERT_THAT(*crashed, SizeIs(1));

  this->clock_.advance(29s);
  EXPECT_THAT(this->store_->claim_inbox_events("w2", 10, 30s).value(), IsEmpty());
  this->clock_.advance(2s);
  Result<std::vector<ClaimedEvent>> reclaimed = this->store_->claim_inbox_events("w2", 10, 30s);
  ASSERT_THAT(reclaimed, IsOk());
  ASSERT_THAT(*reclaimed, SizeIs(1));
  EXPECT_EQ((*reclaimed)[0].id, (*crashed)[0].id);

  // The stale worker comes back: its claim is gone.
  EXPECT_THAT(this->store_->complete_inbox_event((*crashed)[0]), HasError(ErrorCode::kConflict));
  EXPECT_THAT(this->store_->fail_inbox_event((*crashed)[0], "late", this->clock_.now()),
              HasError(ErrorCode::kConflict));
  EXPECT_THAT(this->store_->complete_inbox_event((*reclaimed)[0]), IsOk());
  EXPECT_THAT(this->store_->complete_inbox_event((*reclaimed)[0]), HasError(ErrorCode::kConflict));
}

TYPED_TEST(StoreContractTest, RepliesQueueWithTheCompletionAndLeaveInOrderPerCommunity) {
  CommunityScope a = this->install("1");
  CommunityScope b = this->install("2");
  ASSERT_THAT(a.insert_inbox_event(event("m1")), IsOk());
  ASSERT_THAT(b.insert_inbox_event(event("m1")), IsOk());
  std::vector<ClaimedEvent> events = this->store_->claim_inbox_events("w", 10, 30s).value();
  ASSERT_THAT(events, SizeIs(2));
  const std::vector<std::string> replies_a = {"r1", "r2"};
  const std::vector<std::string> replies_b = {"s1"};
  ASSERT_THAT(this->store_->complete_inbox_event(events[0], replies_a), IsOk());
  ASSERT_THAT(this->store_->complete_inbox_event(events[1], replies_b), IsOk());
  // A completion whose claim was lost queues nothing.
  EXPECT_THAT(this->store_->complete_inbox_event(events[0], replies_a), HasError(ErrorCode::kConflict));

  std::vector<OutboxMessage> first = this->store_->claim_outbox(10, 30s).value();
  ASSERT_THAT(first, SizeIs(2));  // the oldest of each community only
  EXPECT_EQ(first[0].body, "r1");
  EXPECT_EQ(first[0].community_id, "1");
  EXPECT_EQ(first[1].body, "s1");
  EXPECT_THAT(this->store_->claim_outbox(10, 30s).value(), IsEmpty());  // leased, and r2 waits for r1

  ASSERT_THAT(this->store_->finish_outbox(first[0]), IsOk());
  EXPECT_THAT(this->store_->finish_outbox(first[0]), HasError(ErrorCode::kConflict));
  std::vector<OutboxMessage> second = this->store_->claim_outbox(10, 30s).value();
  ASSERT_THAT(second, SizeIs(1));
  EXPECT_EQ(second[0].body, "r2");

  Result<OutboxOutcome> retry = this->store_->fail_outbox(second[0], "graph 503", this->clock_.now() + 60s);
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(*retry, OutboxOutcome::kRetryScheduled);
  EXPECT_THAT(this->store_->claim_outbox(10, 30s).value(), IsEmpty());
  this->clock_.advance(61s);
  std::vector<OutboxMessage> again = this->store_->claim_outbox(10, 30s).value();
  ASSERT_THAT(again, SizeIs(2));  // r2 after its back-off; s1 after its lease ran out (a crashed sender)
  EXPECT_EQ(again[0].body, "r2");
  EXPECT_EQ(again[0].attempts, 1);
  EXPECT_EQ(again[1].body, "s1");
  EXPECT_THAT(this->store_->finish_outbox(first[1]), HasError(ErrorCode::kConflict));  // the stale claim on s1

  Result<OutboxOutcome> dropped = this->store_->fail_outbox(again[0], "graph 100: no such person", std::nullopt);
  ASSERT_THAT(dropped, IsOk());
  EXPECT_EQ(*dropped, OutboxOutcome::kDropped);
  ASSERT_THAT(this->store_->finish_outbox(again[1]), IsOk());
  EXPECT_THAT(this->store_->claim_outbox(10, 30s).value(), IsEmpty());
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM outbox"), 0);
}

TYPED_TEST(StoreContractTest, AThousandQueuedRepliesOfOneCommunityDoNotCrowdOutAnothersReply) {
  CommunityScope a = this->install("1");
  CommunityScope b = this->install("2");
  ASSERT_THAT(a.insert_inbox_event(event("m1")), IsOk());
  ASSERT_THAT(b.insert_inbox_event(event("m1")), IsOk());
  std::vector<ClaimedEvent> events = this->store_->claim_inbox_events("w", 10, 30s).value();
  ASSERT_THAT(events, SizeIs(2));
  std::vector<std::string> backlog;
  for (int i = 1; i <= 1000; ++i) backlog.push_back("r" + std::to_string(i));
  const std::vector<std::string> one = {"s1"};
  ASSERT_THAT(this->store_->complete_inbox_event(events[0], backlog), IsOk());
  ASSERT_THAT(this->store_->complete_inbox_event(events[1], one), IsOk());  // queued after all of a's

  std::vector<OutboxMessage> batch = this->store_->claim_outbox(2, 30s).value();
  ASSERT_THAT(batch, SizeIs(2));
  EXPECT_EQ(batch[0].body, "r1");
  EXPECT_EQ(batch[1].body, "s1");
  EXPECT_EQ(batch[1].community_id, "2");
}

TYPED_TEST(StoreContractTest, ADeferredReplyKeepsItsAttemptsAndHoldsItsCommunityUntilItsTime) {
  CommunityScope a = this->install("1");
  ASSERT_THAT(a.insert_inbox_event(event("m1")), IsOk());
  const ClaimedEvent claimed = this->store_->claim_inbox_events("w", 1, 30s).value().at(0);
  const std::vector<std::string> replies = {"r1", "r2"};
  ASSERT_THAT(this->store_->complete_inbox_event(claimed, replies), IsOk());
  const OutboxMessage first = this->store_->claim_outbox(10, 30s).value().at(0);
  ASSERT_THAT(this->store_->fail_outbox(first, "graph error 2: temporarily unavailable", this->clock_.now()), IsOk());
  const auto health = [&] { return a.installation_summary().value().health; };
  const std::optional<TimePoint> failed_at = health().last_graph_error_at;

  this->clock_.advance(1s);
  const OutboxMessage retried = this->store_->claim_outbox(10, 30s).value().at(0);
  ASSERT_EQ(retried.body, "r1");
  ASSERT_EQ(retried.attempts, 1);
  ASSERT_THAT(this->store_->defer_outbox(retried, this->clock_.now() + 10s), IsOk());
  EXPECT_THAT(this->store_->defer_outbox(retried, this->clock_.now()), HasError(ErrorCode::kConflict))
      << "the claim was given back";
  EXPECT_EQ(health().last_graph_error_at, failed_at) << "a deferral is no Graph error";

  this->clock_.advance(9s);
  EXPECT_THAT(this->store_->claim_outbox(10, 30s).value(), IsEmpty()) << "r1 waits, and r2 behind it";
  this->clock_.advance(1s);
  std::vector<OutboxMessage> again = this->store_->claim_outbox(10, 30s).value();
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_EQ(again[0].body, "r1");
  EXPECT_EQ(again[0].attempts, 1) << "a deferral is not an attempt";

  // A stale claim cannot defer a reply claimed again since: nothing changes.
  this->clock_.advance(31s);
  const OutboxMessage reclaimed = this->store_->claim_outbox(10, 30s).value().at(0);
  EXPECT_THAT(this->store_->defer_outbox(again[0], this->clock_.now() + 1h), HasError(ErrorCode::kConflict));
  ASSERT_THAT(this->store_->finish_outbox(reclaimed), IsOk());
  EXPECT_EQ(this->store_->claim_outbox(10, 30s).value().at(0).body, "r2");
}

TYPED_TEST(StoreContractTest, FailedAttemptsRetryThenBecomeDeadLettersThatReplay) {
  StoreOptions options = test_options();
  options.max_attempts = 2;
  this->reopen(options);
  CommunityScope a = this->install("1");
  ASSERT_THAT(a.insert_inbox_event(event("m1", "the-payload")), IsOk());

  ClaimedEvent claimed = this->store_->claim_inbox_events("w", 1, 30s).value().at(0);
  Result<FailOutcome> retry = this->store_->fail_inbox_event(claimed, "graph 500", this->clock_.now() + 60s);
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(*retry, FailOutcome::kRetryScheduled);
  EXPECT_THAT(this->store_->claim_inbox_events("w", 1, 30s).value(), IsEmpty());  // not before retry_at

  this->clock_.advance(61s);
  claimed = this->store_->claim_inbox_events("w", 1, 30s).value().at(0);
  EXPECT_EQ(claimed.attempts, 1);
  Result<FailOutcome> dead = this->store_->fail_inbox_event(claimed, "graph 500 again", this->clock_.now());
  ASSERT_THAT(dead, IsOk());
  EXPECT_EQ(*dead, FailOutcome::kDeadLettered);
  EXPECT_THAT(this->store_->claim_inbox_events("w", 1, 30s).value(), IsEmpty());

  Result<std::vector<DeadLetter>> letters = a.dead_letters();
  ASSERT_THAT(letters, IsOk());
  ASSERT_THAT(*letters, SizeIs(1));
  EXPECT_EQ((*letters)[0].payload, "the-payload");
  EXPECT_EQ((*letters)[0].attempts, 2);
  EXPECT_EQ((*letters)[0].last_error, "graph 500 again");
  EXPECT_EQ((*letters)[0].community_id, "1");

  ASSERT_THAT(a.replay_dead_letter((*letters)[0].id), IsOk());
  EXPECT_THAT(a.replay_dead_letter((*letters)[0].id), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(a.dead_letters().value(), IsEmpty());
  Result<std::vector<ClaimedEvent>> replayed = this->store_->claim_inbox_events("w", 1, 30s);
  ASSERT_THAT(replayed, IsOk());
  ASSERT_THAT(*replayed, SizeIs(1));
  EXPECT_EQ((*replayed)[0].payload, "the-payload");
  EXPECT_EQ((*replayed)[0].attempts, 0);
}

// On PostgreSQL a claim reads a community from where its last claimed run began (ClaimFloors): a
// dead letter replayed below that is found by the next full scan, while later events keep coming.
TYPED_TEST(StoreContractTest, AReplayedDeadLetterIsClaimedThoughLaterEventsWereClaimedSince) {
  CommunityScope a = this->install("1");
  ASSERT_THAT(a.insert_inbox_event(event("first")), IsOk());
  ClaimedEvent first = this->store_->claim_inbox_events("w", 10, 30s).value().at(0);
  ASSERT_THAT(this->store_->fail_inbox_event(first, "malformed", std::nullopt), IsOk());
  ASSERT_THAT(a.insert_inbox_event(event("second")), IsOk());
  ClaimedEvent second = this->store_->claim_inbox_events("w", 10, 30s).value().at(0);
  ASSERT_EQ(second.dedupe_key, "second");
  ASSERT_THAT(this->store_->complete_inbox_event(second), IsOk());
  ASSERT_THAT(a.replay_dead_letter(a.dead_letters().value().at(0).id), IsOk());

  std::size_t claims = 0;
  bool replayed_claimed = false;
  while (!replayed_claimed && claims <= ClaimFloors::kFullScanEvery) {
    ASSERT_THAT(a.insert_inbox_event(event("later-" + std::to_string(claims))), IsOk());
    std::vector<ClaimedEvent> claimed = this->store_->claim_inbox_events("w", 10, 30s, 10).value();
    ++claims;
    ASSERT_THAT(claimed, Not(IsEmpty()));
    for (const ClaimedEvent& event : claimed) {
      replayed_claimed = replayed_claimed || event.dedupe_key == "first";
      ASSERT_THAT(this->store_->complete_inbox_event(event), IsOk());
    }
  }
  EXPECT_TRUE(replayed_claimed) << "after " << claims << " claims";
}

TYPED_TEST(StoreContractTest, ADeferredEventKeepsItsAttemptsAndWaitsWithItsCommunityUntilItsTime) {
  CommunityScope a = this->install("1");
  ASSERT_THAT(a.insert_inbox_event(event("first")), IsOk());
  ASSERT_THAT(a.insert_inbox_event(event("second")), IsOk());
  ClaimedEvent first = this->store_->claim_inbox_events("w", 10, 30s).value().at(0);
  ASSERT_THAT(this->store_->defer_inbox_event(first, this->clock_.now() + 10s), IsOk());
  EXPECT_THAT(this->store_->defer_inbox_event(first, this->clock_.now()), HasError(ErrorCode::kConflict))
      << "the claim was given up";
  EXPECT_THAT(this->store_->claim_inbox_events("w", 10, 30s, 10).value(), IsEmpty()) << "second waits behind it";
  this->clock_.advance(10s);
  std::vector<ClaimedEvent> claimed = this->store_->claim_inbox_events("w", 10, 30s, 10).value();
  ASSERT_THAT(claimed, SizeIs(2));
  EXPECT_EQ(claimed[0].dedupe_key, "first");
  EXPECT_EQ(claimed[0].attempts, 0);
}

TYPED_TEST(StoreContractTest, CountsPendingEventsAndDeadLettersPerCommunity) {
  StoreOptions options = test_options();
  options.max_attempts = 1;
  this->reopen(options);
  CommunityScope a = this->install("1");
  CommunityScope b = this->install("2");
  this->install("3");  // nothing queued: not listed
  ASSERT_THAT(a.insert_inbox_event(event("a1")), IsOk());
  ASSERT_THAT(b.insert_inbox_event(event("b1")), IsOk());
  ASSERT_THAT(b.insert_inbox_event(event("b2")), IsOk());
  ClaimedEvent first_of_a = this->store_->claim_inbox_events("w", 1, 30s).value().at(0);
  ASSERT_EQ(first_of_a.community_id, "1");
  ASSERT_THAT(this->store_->fail_inbox_event(first_of_a, "graph 500", this->clock_.now()), IsOk());
  ASSERT_THAT(a.insert_inbox_event(event("a2")), IsOk());

  Result<std::vector<InboxCounts>> counts = this->store_->inbox_counts();
  ASSERT_THAT(counts, IsOk());
  ASSERT_THAT(*counts, SizeIs(2));
  EXPECT_EQ((*counts)[0].community_id, "1");
  EXPECT_EQ((*counts)[0].pending, 1);
  EXPECT_EQ((*counts)[0].dead_letters, 1);
  EXPECT_EQ((*counts)[1].community_id, "2");
  EXPECT_EQ((*counts)[1].pending, 2);
  EXPECT_EQ((*counts)[1].dead_letters, 0);
  // A scope counts its own community only.
  Result<InboxCounts> of_a = a.inbox_counts();
  ASSERT_THAT(of_a, IsOk());
  EXPECT_EQ(of_a->community_id, "1");
  EXPECT_EQ(of_a->pending, 1);
  EXPECT_EQ(of_a->dead_letters, 1);
  EXPECT_EQ(this->scope("3").inbox_counts().value().pending, 0);
  EXPECT_EQ(this->scope("3").inbox_counts().value().dead_letters, 0);

  ASSERT_THAT(a.replay_dead_letter(a.dead_letters().value().at(0).id), IsOk());
  EXPECT_EQ(this->store_->inbox_counts().value().at(0).pending, 2);
  EXPECT_EQ(this->store_->inbox_counts().value().at(0).dead_letters, 0);
}

TYPED_TEST(StoreContractTest, ConcurrentInsertsAreAllStoredOnce) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  CommunityScope a = this->install("1");
  std::vector<std::thread> threads;
  std::atomic<int> stored{0};
  std::atomic<int> failed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every key is sent twice, by two threads: one stores it, the other sees a duplicate.
        const std::string key = "k" + std::to_string((t / 2) * kPerThread + i);
        Result<InsertOutcome> outcome = a.insert_inbox_event(event(key));
        if (!outcome) {
          ++failed;
        } else if (*outcome == InsertOutcome::kStored) {
          ++stored;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(stored, kThreads / 2 * kPerThread);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM inbox"), kThreads / 2 * kPerThread);
}

TYPED_TEST(StoreContractTest, WorkersOfTwoStoresHandleEachEventOnceInCommunityOrder) {
  constexpr int kCommunities = 10;
  constexpr int kPerCommunity = 20;
  for (int c = 0; c < kCommunities; ++c) {
    CommunityScope community = this->install(std::to_string(c + 1));
    for (int i = 0; i < kPerCommunity; ++i) {
      ASSERT_THAT(community.insert_inbox_event(event("e" + std::to_string(i), std::to_string(i))), IsOk());
    }
  }
  // A second store on the same database: another `wik serve` replica.
  Result<std::unique_ptr<Database>> database = this->engine_.open();
  ASSERT_THAT(database, IsOk());
  Result<std::unique_ptr<Store>> replica = Store::open(std::move(*database), this->ring_, this->clock_, test_options());
  ASSERT_THAT(replica, IsOk());

  std::mutex mutex;
  std::map<std::string, std::vector<int>> handled;  // community -> payload sequence, in completion order
  std::atomic<int> conflicts{0};
  const auto work = [&](Store& store, const std::string& worker) {
    for (int idle = 0; idle < 50;) {
      Result<std::vector<ClaimedEvent>> claimed = store.claim_inbox_events(worker, 4, 30s, 3);  // runs, cut by the limit
      if (!claimed || claimed->empty()) {
        ++idle;
        std::this_thread::sleep_for(1ms);
        continue;
      }
      idle = 0;
      for (const ClaimedEvent& e : *claimed) {
        {
          const std::lock_guard lock(mutex);
          handled[e.community_id].push_back(std::stoi(e.payload));
        }
        if (!store.complete_inbox_event(e)) ++conflicts;
      }
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    Store& store = w % 2 == 0 ? *this->store_ : **replica;
    workers.emplace_back(work, std::ref(store), "worker-" + std::to_string(w));
  }
  for (std::thread& worker : workers) worker.join();

  EXPECT_EQ(conflicts, 0);
  ASSERT_THAT(handled, SizeIs(kCommunities));
  std::vector<int> in_order(kPerCommunity);
  std::iota(in_order.begin(), in_order.end(), 0);
  for (const auto& [community, sequence] : handled) EXPECT_EQ(sequence, in_order) << "community " << community;
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM inbox WHERE state = 'done'"), kCommunities * kPerCommunity);
}

// ---- Accounts, sessions, OAuth states

TYPED_TEST(StoreContractTest, AccountsHashPasswordsAndRefuseDuplicates) {
  Result<Account> created = this->store_->create_account("Admin@Vendor.test", Secret("CANARY-password"), "admin");
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ(created->email, "admin@vendor.test");
  EXPECT_THAT(this->store_->create_account("ADMIN@vendor.test", Secret("x"), "admin"), HasError(ErrorCode::kConflict));
  EXPECT_THAT(this->store_->create_account("", Secret("x"), "admin"), HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(this->store_->create_account("b@vendor.test", Secret(""), "admin"),
              HasError(ErrorCode::kInvalidArgument));

  Result<Account> signed_in = this->store_->authenticate("admin@vendor.TEST", Secret("CANARY-password"));
  ASSERT_THAT(signed_in, IsOk());
  EXPECT_EQ(signed_in->id, created->id);
  EXPECT_EQ(signed_in->role, "admin");
  EXPECT_THAT(this->store_->authenticate("admin@vendor.test", Secret("wrong")), HasError(ErrorCode::kUnauthenticated));
  EXPECT_THAT(this->store_->authenticate("nobody@vendor.test", Secret("CANARY-password")),
              HasError(ErrorCode::kUnauthenticated));

  Rows stored = this->query("SELECT password_hash FROM accounts");
  ASSERT_THAT(stored, SizeIs(1));
  EXPECT_THAT(stored[0].text(0), StartsWith("$argon2id$"));
}

TYPED_TEST(StoreContractTest, FindsAnAccountByIdUntilItIsDeleted) {
  const Account created = this->store_->create_account("Owner@Vendor.test", Secret("pw"), "admin").value();
  Result<Account> found = this->store_->find_account(created.id);
  ASSERT_THAT(found, IsOk());
  EXPECT_EQ(found->id, created.id);
  EXPECT_EQ(found->email, "owner@vendor.test");
  EXPECT_EQ(found->role, "admin");
  EXPECT_EQ(found->created_at, created.created_at);
  EXPECT_THAT(this->store_->find_account(created.id + 1), HasError(ErrorCode::kNotFound));

  ASSERT_THAT(this->raw().transact([&](Transaction& tx) -> Result<void> {
    Result<std::int64_t> deleted = tx.execute("DELETE FROM accounts WHERE id = $1", {created.id});
    if (!deleted) return deleted.error();
    return ok_result();
  }),
              IsOk());
  EXPECT_THAT(this->store_->find_account(created.id), HasError(ErrorCode::kNotFound));
}

TYPED_TEST(StoreContractTest, SessionsAreStoredAsHashesAndExpire) {
  EXPECT_THAT(this->store_->create_session(999, 3600s), HasError(ErrorCode::kNotFound));
  const AccountId account = this->store_->create_account("a@v.test", Secret("pw"), "admin").value().id;
  Result<NewSession> session = this->store_->create_session(account, 3600s);
  ASSERT_THAT(session, IsOk());
  EXPECT_GE(session->session_id.size(), 40u);
  Result<Session> found = this->store_->find_session(session->session_id);
  ASSERT_THAT(found, IsOk());
  EXPECT_EQ(found->account_id, account);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM sessions WHERE id_hash = $1", {session->session_id.expose()}), 0);
  EXPECT_THAT(this->store_->find_session(Secret("unknown")), HasError(ErrorCode::kNotFound));

  this->clock_.advance(3601s);
  EXPECT_THAT(this->store_->find_session(session->session_id), HasError(ErrorCode::kExpired));
  Result<NewSession> second = this->store_->create_session(account, 3600s);
  ASSERT_THAT(second, IsOk());
  ASSERT_THAT(this->store_->delete_session(second->session_id), IsOk());
  EXPECT_THAT(this->store_->delete_session(second->session_id), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(this->store_->find_session(second->session_id), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(this->store_->prune_expired(), IsOk());
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM sessions"), 0);
}

TYPED_TEST(StoreContractTest, OAuthStatesAreSingleUseBoundToTheirSessionAndExpire) {
  const Secret session("session-one");
  Result<Secret> state = this->store_->create_oauth_state(session, "/install/done", 300s);
  ASSERT_THAT(state, IsOk());
  Result<OAuthState> taken = this->store_->take_oauth_state(*state, session);
  ASSERT_THAT(taken, IsOk());
  EXPECT_EQ(taken->return_to, "/install/done");
  EXPECT_EQ(taken->expires_at, this->clock_.now() + 300s);
  EXPECT_THAT(this->store_->take_oauth_state(*state, session), HasError(ErrorCode::kNotFound));

  Result<Secret> stolen = this->store_->create_oauth_state(session, "/x", 300s);
  ASSERT_THAT(stolen, IsOk());
  EXPECT_THAT(this->store_->take_oauth_state(*stolen, Secret("session-two")), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(this->store_->take_oauth_state(*stolen, session), HasError(ErrorCode::kNotFound));  // used up

  Result<Secret> late = this->store_->create_oauth_state(session, "/x", 300s);
  ASSERT_THAT(late, IsOk());
  Result<Secret> pruned = this->store_->create_oauth_state(session, "/y", 300s);
  ASSERT_THAT(pruned, IsOk());
  this->clock_.advance(301s);
  EXPECT_THAT(this->store_->take_oauth_state(*late, session), HasError(ErrorCode::kExpired));
  EXPECT_EQ(this->store_->prune_expired().value(), 1);
  EXPECT_THAT(this->store_->take_oauth_state(*pruned, session), HasError(ErrorCode::kNotFound));
}

// ---- Pending installs

// Returns a pending install of `community_id` holding `token`, its code's lifetime running from `now`.
PendingInstall pending_install(const std::string& community_id, std::string token, TimePoint now) {
  return {.token = AccessToken(std::move(token)),
          .summary = {.community_id = community_id,
                      .community_name = "Community " + community_id,
                      .permissions = {"message", "read_user_email"},
                      .return_url = "https://work.workplace.com/work/admin/",
                      .code_hash = "c0de" + community_id,
                      .deadline = now + 300s,
                      .tombstone_until = now + 900s}};
}

TYPED_TEST(StoreContractTest, APendingInstallIsKeptUnderItsIdsHashWithItsTokenSealedAndTakenOnce) {
  Result<Secret> id = this->store_->add_pending_install(pending_install("1001", "CANARY-pending-1001", this->clock_.now()), 10);
  ASSERT_THAT(id, IsOk());
  EXPECT_GE(id->size(), 40u);

  Result<PendingInstallSummary> found = this->store_->find_pending_install(*id);
  ASSERT_THAT(found, IsOk());
  EXPECT_EQ(found->community_id, "1001");
  EXPECT_EQ(found->community_name, "Community 1001");
  EXPECT_THAT(found->permissions, ElementsAre("message", "read_user_email"));
  EXPECT_EQ(found->return_url, "https://work.workplace.com/work/admin/");
  EXPECT_EQ(found->code_hash, "c0de1001");
  EXPECT_EQ(found->deadline, this->clock_.now() + 300s);
  EXPECT_EQ(found->tombstone_until, this->clock_.now() + 900s);

  Rows stored = this->query("SELECT id_hash, token_sealed FROM pending_installs");
  ASSERT_THAT(stored, SizeIs(1));
  EXPECT_NE(stored[0].text(0), id->expose());
  EXPECT_THAT(stored[0].text(1), StartsWith("wik1.k1."));
  EXPECT_THAT(stored[0].text(1), Not(HasSubstr("CANARY")));
  EXPECT_THAT(this->store_->find_pending_install(Secret("unknown")), HasError(ErrorCode::kNotFound));

  Result<PendingInstall> taken = this->store_->take_pending_install(*id);
  ASSERT_THAT(taken, IsOk());
  EXPECT_EQ(taken->token.expose(), "CANARY-pending-1001");
  EXPECT_EQ(taken->summary.community_id, "1001");
  EXPECT_THAT(this->store_->take_pending_install(*id), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(this->store_->find_pending_install(*id), HasError(ErrorCode::kNotFound));
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM pending_installs"), 0);
}

TYPED_TEST(StoreContractTest, RacingTakesOnTwoStoresHandEachPendingInstallOutOnce) {
  constexpr int kInstalls = 20;
  std::vector<Secret> ids;
  for (int i = 0; i < kInstalls; ++i) {
    const std::string community = std::to_string(100 + i);
    ids.push_back(this->store_->add_pending_install(pending_install(community, "token-" + community, this->clock_.now()),
                                                    kInstalls)
                      .value());
  }
  // A second store on the same database: another `wik serve` replica.
  Result<std::unique_ptr<Database>> database = this->engine_.open();
  ASSERT_THAT(database, IsOk());
  Result<std::unique_ptr<Store>> replica = Store::open(std::move(*database), this->ring_, this->clock_, test_options());
  ASSERT_THAT(replica, IsOk());

  std::mutex mutex;
  std::map<std::string, int> handed_out;  // token -> how many takes got it
  std::atomic<int> refused{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> takers;
  for (int t = 0; t < 4; ++t) {
    takers.emplace_back([&, t] {
      Store& store = t % 2 == 0 ? *this->store_ : **replica;
      for (int i = 0; i < kInstalls; ++i) {
        Result<PendingInstall> taken = store.take_pending_install(ids[static_cast<std::size_t>((i + t * 5) % kInstalls)]);
        if (taken) {
          const std::lock_guard lock(mutex);
          ++handed_out[std::string(taken->token.expose())];
        } else if (taken.error().code() == ErrorCode::kNotFound) {
          ++refused;
        } else {
          ++failed;
        }
      }
    });
  }
  for (std::thread& taker : takers) taker.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(refused, 3 * kInstalls);
  ASSERT_THAT(handed_out, SizeIs(kInstalls));
  for (const auto& [token, takes] : handed_out) EXPECT_EQ(takes, 1) << token;
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM pending_installs"), 0);
}

TYPED_TEST(StoreContractTest, APendingInstallPastItsDeadlineLosesItsTokenAndStaysAsATombstone) {
  const Secret late = this->store_->add_pending_install(pending_install("1", "token-late", this->clock_.now()), 10).value();
  const Secret other = this->store_->add_pending_install(pending_install("2", "token-other", this->clock_.now()), 10).value();
  this->clock_.advance(300s);

  // The next access to any pending install destroys every expired token.
  EXPECT_THAT(this->store_->find_pending_install(Secret("unknown")), HasError(ErrorCode::kNotFound));
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM pending_installs WHERE token_sealed <> ''"), 0);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM pending_installs"), 2);
  EXPECT_THAT(this->store_->find_pending_install(late), HasError(ErrorCode::kExpired));
  EXPECT_THAT(this->store_->take_pending_install(late), HasError(ErrorCode::kExpired));
  EXPECT_THAT(this->store_->take_pending_install(other), HasError(ErrorCode::kExpired));

  // Once the tombstone period is over, nothing is known of them any more.
  this->clock_.advance(600s);
  EXPECT_THAT(this->store_->find_pending_install(late), HasError(ErrorCode::kNotFound));
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM pending_installs"), 0);
}

TYPED_TEST(StoreContractTest, PruningDestroysExpiredPendingTokensThenForgetsTheirTombstones) {
  ASSERT_THAT(this->store_->add_pending_install(pending_install("1", "token-1", this->clock_.now()), 10), IsOk());
  const Secret waiting =
      this->store_->add_pending_install(pending_install("2", "token-2", this->clock_.now() + 200s), 10).value();
  this->clock_.advance(301s);
  EXPECT_EQ(this->store_->prune_expired().value(), 1);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM pending_installs WHERE token_sealed = ''"), 1);
  EXPECT_THAT(this->store_->find_pending_install(waiting), IsOk());

  this->clock_.advance(600s);
  EXPECT_EQ(this->store_->prune_expired().value(), 2);  // the first tombstone, the second token
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM pending_installs"), 1);
  EXPECT_THAT(this->store_->find_pending_install(waiting), HasError(ErrorCode::kExpired));
}

TYPED_TEST(StoreContractTest, AtMostCapacityPendingInstallsWaitAtOnce) {
  const Secret first = this->store_->add_pending_install(pending_install("1", "token-1", this->clock_.now()), 2).value();
  ASSERT_THAT(this->store_->add_pending_install(pending_install("2", "token-2", this->clock_.now()), 2), IsOk());
  EXPECT_THAT(this->store_->add_pending_install(pending_install("3", "token-3", this->clock_.now()), 2),
              HasError(ErrorCode::kRateLimited));
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM pending_installs"), 2);

  ASSERT_THAT(this->store_->take_pending_install(first), IsOk());
  ASSERT_THAT(this->store_->add_pending_install(pending_install("3", "token-3", this->clock_.now()), 2), IsOk());
  // Tombstones do not wait: they leave room.
  this->clock_.advance(300s);
  EXPECT_THAT(this->store_->add_pending_install(pending_install("4", "token-4", this->clock_.now()), 2), IsOk());
  EXPECT_THAT(this->store_->add_pending_install(pending_install("5", "token-5", this->clock_.now()), 2), IsOk());
  EXPECT_THAT(this->store_->add_pending_install(pending_install("6", "token-6", this->clock_.now()), 2),
              HasError(ErrorCode::kRateLimited));
}

TYPED_TEST(StoreContractTest, APendingInstallOfAMalformedCommunityIsRefusedAndOneDiscardedIsGone) {
  for (const std::string& hostile : {std::string(), std::string(65, '1'), std::string("12 34")}) {
    EXPECT_THAT(this->store_->add_pending_install(pending_install(hostile, "token-x", this->clock_.now()), 10),
                HasError(ErrorCode::kInvalidArgument));
  }
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM pending_installs"), 0);

  const Secret id = this->store_->add_pending_install(pending_install("1", "token-1", this->clock_.now()), 10).value();
  ASSERT_THAT(this->store_->discard_pending_install(id), IsOk());
  EXPECT_THAT(this->store_->find_pending_install(id), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(this->store_->take_pending_install(id), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(this->store_->discard_pending_install(id), IsOk()) << "discarding nothing is not an error";
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM pending_installs"), 0);
}

// ---- Identities

TYPED_TEST(StoreContractTest, IdentitiesLinkToAccountsWithinTheirCommunity) {
  CommunityScope a = this->scope("1");
  Result<Identity> put = a.put_identity("asid-1", "user@customer.test");
  ASSERT_THAT(put, IsOk());
  EXPECT_EQ(put->community_id, "1");
  EXPECT_FALSE(put->account_id.has_value());
  const AccountId account = this->store_->create_account("user@customer.test", Secret("pw"), "member").value().id;

  EXPECT_THAT(a.link_identity("asid-1", account + 100), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(a.link_identity("asid-unknown", account), HasError(ErrorCode::kNotFound));
  Result<Identity> linked = a.link_identity("asid-1", account);
  ASSERT_THAT(linked, IsOk());
  EXPECT_EQ(linked->account_id, account);

  ASSERT_THAT(a.put_identity("asid-1", "renamed@customer.test"), IsOk());  // keeps the link
  Result<Identity> read = a.identity("asid-1");
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->email, "renamed@customer.test");
  EXPECT_EQ(read->account_id, account);
  EXPECT_THAT(a.identity("asid-2"), HasError(ErrorCode::kNotFound));
}

// ---- Account links

TYPED_TEST(StoreContractTest, AnAccountLinkRecordsTheIdentityStoresOnlyAHashAndLinksOnce) {
  CommunityScope a = this->install("501");
  const Account admin = this->store_->create_account("Admin@Vendor.test", Secret("pw"), "admin").value();
  const Account other = this->store_->create_account("other@vendor.test", Secret("pw"), "member").value();
  Result<Secret> token =
      a.create_account_link({.user_id = "9001", .email = "ADMIN@vendor.test", .person_name = "Ada <b>"}, 900s);
  ASSERT_THAT(token, IsOk());
  EXPECT_EQ(token->size(), 43u);  // base64url of 32 random bytes
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM account_link_tokens WHERE token_hash = $1", {token->expose()}), 0);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM account_link_tokens WHERE community_id = '501'"), 1);
  Result<Identity> recorded = a.identity("9001");
  ASSERT_THAT(recorded, IsOk());
  EXPECT_EQ(recorded->email, "ADMIN@vendor.test");
  EXPECT_FALSE(recorded->account_id.has_value());

  // The same email is a proposal only: nothing is linked until a redeem names an account.
  Result<AccountLinkOffer> offer = a.find_account_link(*token);
  ASSERT_THAT(offer, IsOk());
  EXPECT_EQ(offer->community_id, "501");
  EXPECT_EQ(offer->community_name, "Community 501");
  EXPECT_EQ(offer->user_id, "9001");
  EXPECT_EQ(offer->person_name, "Ada <b>");
  EXPECT_EQ(offer->expires_at, this->clock_.now() + 900s);
  ASSERT_TRUE(offer->same_email_account.has_value());
  EXPECT_EQ(offer->same_email_account->id, admin.id);
  EXPECT_FALSE(offer->linked_account.has_value());
  EXPECT_EQ(a.linked_account("9001").value(), std::nullopt);

  Result<Identity> linked = a.redeem_account_link(*token, other.id);
  ASSERT_THAT(linked, IsOk());
  EXPECT_EQ(linked->user_id, "9001");
  EXPECT_EQ(linked->account_id, other.id);
  Result<std::optional<Account>> now_linked = a.linked_account("9001");
  ASSERT_THAT(now_linked, IsOk());
  ASSERT_TRUE(now_linked->has_value());
  EXPECT_EQ((*now_linked)->email, "other@vendor.test");
  EXPECT_THAT(a.redeem_account_link(*token, admin.id), HasError(ErrorCode::kConflict));
  EXPECT_THAT(a.find_account_link(*token), HasError(ErrorCode::kConflict));
  EXPECT_EQ(a.linked_account("9001").value()->id, other.id) << "a used token changes nothing";

  const std::vector<AuditEntry> trail = this->store_->audit_trail("501").value();
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(trail.back().action, "account_linked");
  EXPECT_EQ(trail.back().detail, "account=" + std::to_string(other.id));
  EXPECT_THAT(trail.back().detail, Not(HasSubstr("9001")));

  EXPECT_EQ(a.unlink_identity("9001").value(), true);
  EXPECT_EQ(a.unlink_identity("9001").value(), false);
  EXPECT_EQ(a.linked_account("9001").value(), std::nullopt);
  EXPECT_EQ(this->store_->audit_trail("501").value().back().action, "account_unlinked");
  EXPECT_EQ(a.linked_account("unknown").value(), std::nullopt);
}

TYPED_TEST(StoreContractTest, AnAccountLinkExpiresAndUnknownTokensAreRefused) {
  CommunityScope a = this->install("502");
  const AccountId account = this->store_->create_account("x@vendor.test", Secret("pw"), "member").value().id;
  const Secret token = a.create_account_link({.user_id = "1", .email = "", .person_name = ""}, 60s).value();
  EXPECT_THAT(a.find_account_link(Secret("not-a-token")), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(a.redeem_account_link(Secret("not-a-token"), account), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(a.redeem_account_link(token, account + 100), HasError(ErrorCode::kUnauthenticated));
  EXPECT_THAT(a.find_account_link(token), IsOk()) << "a refused redeem leaves the token usable";

  this->clock_.advance(60s);
  EXPECT_THAT(a.find_account_link(token), HasError(ErrorCode::kExpired));
  EXPECT_THAT(a.redeem_account_link(token, account), HasError(ErrorCode::kExpired));
  EXPECT_EQ(a.identity("1").value().account_id, std::nullopt);
  // The next link of the community clears the expired ones.
  ASSERT_THAT(a.create_account_link({.user_id = "1", .email = "", .person_name = ""}, 60s), IsOk());
  EXPECT_THAT(a.find_account_link(token), HasError(ErrorCode::kNotFound));
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM account_link_tokens"), 1);
}

TYPED_TEST(StoreContractTest, AnAccountLinkOfOneCommunityNeitherWorksNorShowsInAnother) {
  CommunityScope a = this->install("601");
  CommunityScope b = this->install("602");
  const AccountId account = this->store_->create_account("x@vendor.test", Secret("pw"), "member").value().id;
  const Secret token = a.create_account_link({.user_id = "77", .email = "x@vendor.test", .person_name = "A"}, 900s).value();
  ASSERT_THAT(b.put_identity("77", "x@vendor.test"), IsOk());  // the same app-scoped id in B, by chance

  EXPECT_THAT(b.find_account_link(token), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(b.redeem_account_link(token, account), HasError(ErrorCode::kNotFound));
  EXPECT_EQ(b.identity("77").value().account_id, std::nullopt);
  EXPECT_EQ(b.linked_account("77").value(), std::nullopt);
  ASSERT_THAT(a.redeem_account_link(token, account), IsOk());
  EXPECT_EQ(a.linked_account("77").value()->id, account);
  EXPECT_EQ(b.linked_account("77").value(), std::nullopt) << "linking is per (community, user id)";
  EXPECT_EQ(b.unlink_identity("77").value(), false);
  EXPECT_EQ(a.linked_account("77").value()->id, account);
}

TYPED_TEST(StoreContractTest, AnAccountLinkNeedsAnActiveInstall) {
  EXPECT_THAT(this->scope("701").create_account_link({.user_id = "1", .email = "", .person_name = ""}, 900s),
              HasError(ErrorCode::kNotFound));
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM identities WHERE community_id = '701'"), 0);

  CommunityScope a = this->install("702");
  const AccountId account = this->store_->create_account("x@vendor.test", Secret("pw"), "member").value().id;
  const Secret token = a.create_account_link({.user_id = "1", .email = "", .person_name = ""}, 900s).value();
  ASSERT_THAT(a.revoke_installation(), IsOk());
  EXPECT_THAT(a.find_account_link(token), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(a.redeem_account_link(token, account), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(a.create_account_link({.user_id = "1", .email = "", .person_name = ""}, 900s),
              HasError(ErrorCode::kNotFound));
  EXPECT_EQ(a.identity("1").value().account_id, std::nullopt);
  this->install("702");
  EXPECT_THAT(a.redeem_account_link(token, account), IsOk()) << "the token outlived the uninstall unused";
}

TYPED_TEST(StoreContractTest, TwoReplicasRedeemingOneAccountLinkAtOnceLinkOnce) {
  CommunityScope a = this->install("801");
  std::vector<AccountId> accounts;
  for (int i = 0; i < 8; ++i) {
    accounts.push_back(
        this->store_->create_account("a" + std::to_string(i) + "@vendor.test", Secret("pw"), "member").value().id);
  }
  const Secret token = a.create_account_link({.user_id = "5", .email = "", .person_name = ""}, 900s).value();
  Result<std::unique_ptr<Database>> database = this->engine_.open();
  ASSERT_THAT(database, IsOk());
  Result<std::unique_ptr<Store>> replica = Store::open(std::move(*database), this->ring_, this->clock_, test_options());
  ASSERT_THAT(replica, IsOk());

  std::atomic<int> linked{0};
  std::atomic<int> used{0};
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    Store& store = i % 2 == 0 ? *this->store_ : **replica;
    threads.emplace_back([&, i, scope = store.community("801").value()]() mutable {
      Result<Identity> done = scope.redeem_account_link(token, accounts[i]);
      if (done) ++linked;
      if (!done && done.error().code() == ErrorCode::kConflict) ++used;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(linked, 1);
  EXPECT_EQ(used, static_cast<int>(accounts.size()) - 1);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM audit_log WHERE action = 'account_linked'"), 1);
}

// On PostgreSQL the queues' leases and due times are in the database server's time, so replicas
// whose clocks are ten minutes apart agree on them (H7, docs/RELIABILITY.md). SQLite's processes
// share one machine's clock.
using PostgresStoreTest = StoreTest<PostgresEngine>;

TEST_F(PostgresStoreTest, ReplicasWithSkewedClocksAgreeOnLeasesAndDueTimes) {
  CommunityScope a = this->install("1");
  ASSERT_THAT(a.insert_inbox_event(event("a1")), IsOk());
  wik::testing::FakeClock ahead_clock;
  ahead_clock.set_unix_seconds(std::chrono::duration_cast<std::chrono::seconds>(
                                   (this->clock_.now() + 10min).time_since_epoch()).count());
  Result<std::unique_ptr<Database>> database = this->engine_.open();
  ASSERT_THAT(database, IsOk());
  Result<std::unique_ptr<Store>> ahead = Store::open(std::move(*database), this->ring_, ahead_clock, test_options());
  ASSERT_THAT(ahead, IsOk());
  Store& behind = *this->store_;
  const auto pass = [&](std::chrono::seconds time) {
    this->clock_.advance(time);
    ahead_clock.advance(time);
  };

  // The replica ahead sees the other's lease running, and takes the event only once it ran out.
  std::vector<ClaimedEvent> first = behind.claim_inbox_events("behind", 10, 30s).value();
  ASSERT_THAT(first, SizeIs(1));
  EXPECT_THAT((*ahead)->claim_inbox_events("ahead", 10, 30s).value(), IsEmpty());
  pass(31s);
  std::vector<ClaimedEvent> second = (*ahead)->claim_inbox_events("ahead", 10, 30s).value();
  ASSERT_THAT(second, SizeIs(1));
  EXPECT_EQ(second[0].lease_until, ahead_clock.now() + 30s);  // handed back in the claimer's clock

  // The lease the replica ahead took lasts 30 s for the other too, not ten minutes longer.
  EXPECT_THAT(behind.claim_inbox_events("behind", 10, 30s).value(), IsEmpty());
  pass(31s);
  std::vector<ClaimedEvent> third = behind.claim_inbox_events("behind", 10, 30s).value();
  ASSERT_THAT(third, SizeIs(1));

  // A retry the replica behind schedules a minute out is due a minute later for the replica ahead.
  ASSERT_THAT(behind.fail_inbox_event(third[0], "handler failed", this->clock_.now() + 60s), IsOk());
  pass(59s);
  EXPECT_THAT((*ahead)->claim_inbox_events("ahead", 10, 30s).value(), IsEmpty());
  pass(2s);
  EXPECT_THAT((*ahead)->claim_inbox_events("ahead", 10, 30s).value(), SizeIs(1));
}

// ---- Settings

TYPED_TEST(StoreContractTest, SettingsRoundTripPerCommunityAndAuditTheNameNeverTheValue) {
  CommunityScope a = this->install("81");
  CommunityScope b = this->install("82");
  ASSERT_THAT(a.settings(), IsOk());
  EXPECT_THAT(a.settings().value(), IsEmpty());

  this->clock_.advance(1s);
  ASSERT_THAT(a.put_setting("support_hours", "8:00–16:00 <b>\"CET\"</b>"), IsOk());
  ASSERT_THAT(a.put_setting("team", "Blue"), IsOk());
  ASSERT_THAT(b.put_setting("team", "Red"), IsOk());
  ASSERT_THAT(a.put_setting("team", "Green"), IsOk());
  ASSERT_THAT(a.put_setting("team", "Green"), IsOk()) << "unchanged: no write, no audit";

  const std::map<std::string, std::string> expected_a = {{"support_hours", "8:00–16:00 <b>\"CET\"</b>"},
                                                         {"team", "Green"}};
  EXPECT_EQ(a.settings().value(), expected_a);
  const std::map<std::string, std::string> expected_b = {{"team", "Red"}};
  EXPECT_EQ(b.settings().value(), expected_b);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM community_settings WHERE community_id = '81'"), 2);

  Result<std::vector<AuditEntry>> trail = this->store_->audit_trail("81");
  ASSERT_THAT(trail, IsOk());
  std::vector<std::string> changes;
  for (const AuditEntry& entry : *trail) {
    if (entry.action == "setting_changed") changes.push_back(entry.detail);
  }
  EXPECT_THAT(changes, ElementsAre("support_hours", "team", "team"));
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%Green%' OR detail LIKE '%CET%'"), 0);
}

TYPED_TEST(StoreContractTest, NoSettingIsStoredForACommunityWithoutAKey) {
  CommunityScope never = this->scope("83");
  EXPECT_THAT(never.put_setting("team", "Blue"), HasError(ErrorCode::kNotFound));
  ASSERT_THAT(never.settings(), IsOk());
  EXPECT_THAT(never.settings().value(), IsEmpty());
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM community_settings WHERE community_id = '83'"), 0);
}

// ---- App tables, audit, keys

TYPED_TEST(StoreContractTest, RegistersOnlyExistingAppTablesWithPlainNames) {
  EXPECT_THAT(this->store_->register_app_table({.table = "tickets; DROP TABLE inbox", .community_column = "c"}),
              HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(this->store_->register_app_table({.table = "tickets", .community_column = "community_id"}),
              HasError(ErrorCode::kNotFound));
  ASSERT_THAT(this->raw().transact([](Transaction& tx) {
    return tx.execute_script("CREATE TABLE tickets (community_id TEXT NOT NULL, body TEXT)");
  }),
              IsOk());
  EXPECT_THAT(this->store_->register_app_table({.table = "tickets", .community_column = "no_such_column"}),
              HasError(ErrorCode::kNotFound));
  ASSERT_THAT(this->store_->register_app_table({.table = "tickets", .community_column = "community_id"}), IsOk());
  Result<std::vector<AppTable>> tables = this->store_->app_tables();
  ASSERT_THAT(tables, IsOk());
  ASSERT_THAT(*tables, SizeIs(1));
  EXPECT_EQ((*tables)[0].table, "tickets");
}

TYPED_TEST(StoreContractTest, TheAuditLogNamesCommunitiesByKeyedHashAndIsAppendOnly) {
  CommunityScope a = this->install("987654321");
  ASSERT_THAT(a.record_audit("token_used", "calls=1"), IsOk());
  ASSERT_THAT(a.revoke_installation(), IsOk());
  this->install("5");

  Result<std::vector<AuditEntry>> trail = this->store_->audit_trail("987654321");
  ASSERT_THAT(trail, IsOk());
  ASSERT_THAT(*trail, SizeIs(3));
  EXPECT_EQ((*trail)[0].action, "installed");
  EXPECT_EQ((*trail)[1].action, "token_used");
  EXPECT_EQ((*trail)[2].action, "revoked");
  EXPECT_EQ((*trail)[0].community_ref.size(), 64u);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM audit_log WHERE community_ref LIKE '%987654321%' OR "
                        "detail LIKE '%987654321%'"),
            0);

  EXPECT_THAT(this->raw().transact([](Transaction& tx) -> Result<void> {
    Result<std::int64_t> changed = tx.execute("UPDATE audit_log SET action = 'forged'");
    if (!changed) return changed.error();
    return ok_result();
  }),
              HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(this->raw().transact([](Transaction& tx) -> Result<void> {
    Result<std::int64_t> changed = tx.execute("DELETE FROM audit_log");
    if (!changed) return changed.error();
    return ok_result();
  }),
              HasError(ErrorCode::kPermissionDenied));
}

TYPED_TEST(StoreContractTest, RewrapsDataKeysUnderTheActiveRingKey) {
  this->install("1", "token-one");
  this->install("2", "token-two");
  const Secret pending =
      this->store_->add_pending_install(pending_install("3", "token-three", this->clock_.now()), 10).value();
  core::KeyRing rotated = this->ring_;
  ASSERT_THAT(rotated.rotate_to("k2"), IsOk());
  this->ring_ = rotated;
  this->reopen();
  Result<std::int64_t> rewrapped = this->store_->rewrap_data_keys();
  ASSERT_THAT(rewrapped, IsOk());
  EXPECT_EQ(*rewrapped, 2);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM community_keys WHERE wrapped_key LIKE 'wik1.k2.%'"), 2);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM pending_installs WHERE token_sealed LIKE 'wik1.k2.%'"), 1);

  // A ring without k1 now opens everything: the old key can be retired.
  core::KeyRing retired = core::KeyRing::generate("k3");
  ASSERT_THAT(retired.add_key("k2", Secret(std::string(rotated.find("k2")->expose()))), IsOk());
  ASSERT_THAT(retired.set_active("k2"), IsOk());
  this->ring_ = retired;
  this->reopen();
  EXPECT_EQ(this->scope("2").installation().value().access_token.expose(), "token-two");
  EXPECT_EQ(this->store_->take_pending_install(pending).value().token.expose(), "token-three");
}

TYPED_TEST(StoreContractTest, OpeningWithARingThatLacksTheKeyFails) {
  this->install("1");
  this->store_.reset();
  Result<std::unique_ptr<Database>> database = this->engine_.open();
  ASSERT_THAT(database, IsOk());
  EXPECT_THAT(Store::open(std::move(*database), core::KeyRing::generate("other"), this->clock_, test_options()),
              HasError(ErrorCode::kNotFound));
}

// ---- Migrations

TYPED_TEST(StoreContractTest, MigratingTwiceChangesNothing) {
  this->install("1");
  this->reopen();
  EXPECT_EQ(schema_version(this->raw()).value(), kit_migrations(this->raw().dialect()).back().version);
  EXPECT_THAT(this->scope("1").installation(), IsOk());
}

TYPED_TEST(StoreContractTest, AFailedMigrationLeavesThePreviousSchemaIntact) {
  this->install("1", "kept-token");
  std::vector<Migration> migrations = kit_migrations(this->raw().dialect());
  const std::int64_t before = migrations.back().version;
  migrations.push_back({.version = before + 1,
                        .name = "half done",
                        .sql = "CREATE TABLE half_done (x BIGINT); ALTER TABLE inbox ADD COLUMN extra TEXT;"
                               "INSERT INTO no_such_table VALUES (1);"});
  EXPECT_THAT(migrate(this->raw(), migrations, this->clock_),
              HasError(ErrorCode::kInternal, HasSubstr("migration " + std::to_string(before + 1))));
  EXPECT_EQ(schema_version(this->raw()).value(), before);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM inbox"), 0);
  Rows tables = this->query(TypeParam::tables_with_column_sql(), {"x"});
  EXPECT_THAT(tables, IsEmpty());  // half_done was rolled back
  EXPECT_THAT(this->query(TypeParam::tables_with_column_sql(), {"extra"}), IsEmpty());
  this->reopen();
  EXPECT_EQ(this->scope("1").installation().value().access_token.expose(), "kept-token");
}

TYPED_TEST(StoreContractTest, RefusesAnOldSchemaWhenNotMigrating) {
  TypeParam fresh;
  ASSERT_THAT(fresh.create(), IsOk());
  Result<std::unique_ptr<Database>> database = fresh.open();
  ASSERT_THAT(database, IsOk());
  StoreOptions options = test_options();
  options.migrate = false;
  EXPECT_THAT(Store::open(std::move(*database), this->ring_, this->clock_, options),
              HasError(ErrorCode::kConfig, HasSubstr("wik migrate")));
}

}  // namespace
}  // namespace wik::store::testing
