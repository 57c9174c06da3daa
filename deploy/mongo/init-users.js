// The users service's own MongoDB user: read and write on the `users` database only, so the
// service never connects as root. The mongo image runs this once, on an empty volume, as the
// root user (docker-compose.yml mounts it into /docker-entrypoint-initdb.d). The password
// comes from MONGO_USERS_PASSWORD in the container's environment.
const password = process.env.MONGO_USERS_PASSWORD;
if (!password) {
  throw new Error("MONGO_USERS_PASSWORD is required");
}
db.getSiblingDB("users").createUser({
  user: "users",
  pwd: password,
  roles: [{ role: "readWrite", db: "users" }],
});
