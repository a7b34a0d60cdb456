// Why a credential file cannot be read: a missing file, a missing folder and a file or
// folder this user may not read are different problems with different fixes (the last is
// seen as another user: tests/cli/operator_config_binary_test.cc).

#include "config/credential_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "fakes/temp_dir.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

TEST(CredentialFileTest, MissingFileAndMissingFolderAreToldApart) {
  TempDir dir;
  fs::create_directories(dir / "credentials");
  auto no_file = ReadCredentialFile(dir / "credentials", "main.secret", "app main: secret");
  ASSERT_FALSE(no_file);
  EXPECT_EQ(no_file.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(no_file.error().message.find("cannot open: no such file"), std::string::npos)
      << no_file.error().message;

  auto no_folder = ReadCredentialFile(dir / "gone", "main.secret", "app main: secret");
  ASSERT_FALSE(no_folder);
  EXPECT_NE(no_folder.error().message.find("no folder " + (dir / "gone").string()),
            std::string::npos)
      << no_folder.error().message;
}

// An absolute path in the config may be a pasted secret: its folders are never named.
TEST(CredentialFileTest, AnAbsoluteNameIsNeverEchoed) {
  TempDir dir;
  const fs::path pasted = dir / "pastedSecretValue/x";
  auto missing = ReadCredentialFile(dir.path(), pasted, "app main: client_secret_file");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message.find("pastedSecretValue"), std::string::npos)
      << missing.error().message;
  EXPECT_NE(missing.error().message.find("a folder on its path is missing"), std::string::npos)
      << missing.error().message;
}

}  // namespace
}  // namespace broadcastd
