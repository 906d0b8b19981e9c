#include "catalog_service.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/util/ids.hpp"
#include "migrations.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

using namespace deliveryhub;
using namespace deliveryhub::orders;
using core::Error;
using core::ErrorKind;
using testing::kind_of;

namespace {

struct World {
  testing::TempDatabase db{"orders", migrations()};
  core::SystemClock clock;
  std::unique_ptr<CatalogService> catalog;
  World() { catalog = std::make_unique<CatalogService>(*db, clock); }
};

}  // namespace

TEST_CASE("products are created, found by SKU, and SKUs are unique") {
  World w;
  auto product = w.catalog->create({"PIZZA-M", "Pizza margherita", 1250, "EUR", true});
  CHECK(core::is_id(product.id, "prd"));
  CHECK(product.version == 1);
  CHECK(w.catalog->find_by_sku("PIZZA-M")->id == product.id);
  CHECK(w.catalog->find(product.id)->price == 1250);
  CHECK_FALSE(w.catalog->find("prd_nope"));
  CHECK(kind_of([&] { w.catalog->create({"PIZZA-M", "Another", 1, "EUR", true}); }) == ErrorKind::conflict);
}

TEST_CASE("bad SKUs and currencies are validation errors naming the field") {
  World w;
  try {
    w.catalog->create({"has space", "X", 1, "eur", true});
    FAIL("accepted");
  } catch (const Error& e) {
    REQUIRE(e.errors().size() == 2);
    CHECK(e.errors()[0].field == "sku");
    CHECK(e.errors()[1].field == "currency");
  }
}

TEST_CASE("updates honour If-Match and bump the version") {
  World w;
  auto product = w.catalog->create({"SALAD", "Salad", 800, "EUR", true});
  auto updated = w.catalog->update(product.id, {std::nullopt, 900, std::nullopt, false}, 1);
  CHECK(updated.price == 900);
  CHECK_FALSE(updated.active);
  CHECK(updated.version == 2);
  CHECK(kind_of([&] {
          w.catalog->update(product.id, {std::string("Stale"), std::nullopt, std::nullopt, std::nullopt}, 1);
        }) == ErrorKind::precondition_failed);
  CHECK(w.catalog->find(product.id)->name == "Salad");
  CHECK(kind_of([&] { w.catalog->update(core::new_id("prd"), {}, std::nullopt); }) == ErrorKind::not_found);
}

TEST_CASE("listing shows active products newest first, pages, and inactive ones on request") {
  World w;
  auto a = w.catalog->create({"A", "A", 1, "EUR", true});
  auto b = w.catalog->create({"B", "B", 1, "EUR", false});
  auto c = w.catalog->create({"C", "C", 1, "EUR", true});
  auto active = w.catalog->list(false, 50, std::nullopt);
  REQUIRE(active.products.size() == 2);
  CHECK(active.products[0].id == c.id);
  CHECK(active.products[1].id == a.id);
  auto first = w.catalog->list(true, 2, std::nullopt);
  REQUIRE(first.next_after);
  CHECK(first.products[1].id == b.id);
  auto second = w.catalog->list(true, 2, first.next_after);
  REQUIRE(second.products.size() == 1);
  CHECK(second.products[0].id == a.id);
  CHECK_FALSE(second.next_after);
}
