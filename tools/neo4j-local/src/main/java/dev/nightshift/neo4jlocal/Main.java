package dev.nightshift.neo4jlocal;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * Runs an embedded Neo4j Community server that speaks Bolt on the loopback interface only.
 *
 * <p>Usage: {@code Main [port] [homeDir]}. Each argument falls back to an environment variable:
 * the port to {@code NEO4J_PORT} (default {@code 7687}; {@code 0} picks a free port), the home
 * directory to {@code NEO4J_HOME_DIR} (default a fresh temporary directory that is deleted again on
 * shutdown). An existing home directory is reused, so its data survives restarts.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>Bolt listens on {@code 127.0.0.1:PORT} without TLS and without authentication; no HTTP or
 *       HTTPS connector is started.
 *   <li>Once the default database is available, exactly one line {@code bolt://127.0.0.1:PORT} is
 *       written to stdout, with the actual port. Nothing else is ever written to stdout; warnings
 *       go to stderr and the debug log to {@code <homeDir>/logs/debug.log}.
 *   <li>SIGTERM or SIGINT shuts the server down gracefully (checkpoint, Bolt port released,
 *       temporary home deleted); the JVM then exits with its usual status for that signal (143 or
 *       130).
 *   <li>If the server cannot start, or the database is not available within 60 seconds, the
 *       process prints the reason to stderr and exits with status 1 without printing the ready
 *       line.
 * </ul>
 */
public final class Main {
    private static final String HOST = "127.0.0.1";
    private static final long AVAILABILITY_TIMEOUT_MS = 60_000;

    private final int port;
    private final Path home;
    private final boolean temporaryHome;
    private Log4jLogProvider userLog;
    private DatabaseManagementService service;
    private boolean stopped;

    private Main(int port, Path home, boolean temporaryHome) {
        this.port = port;
        this.home = home;
        this.temporaryHome = temporaryHome;
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        PrintStream ready = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        System.setOut(System.err);

        String requestedPort = setting(args, 0, "NEO4J_PORT", "7687");
        int port;
        try {
            port = resolvePort(Integer.parseInt(requestedPort));
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("neo4j-local: cannot use port " + requestedPort + " on " + HOST + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        String homeSetting = setting(args, 1, "NEO4J_HOME_DIR", "");
        boolean temporaryHome = homeSetting.isEmpty();
        Path home = temporaryHome
                ? Files.createTempDirectory("neo4j-local-")
                : Files.createDirectories(Path.of(homeSetting).toAbsolutePath());

        Main server = new Main(port, home, temporaryHome);
        Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "neo4j-local-shutdown"));
        try {
            server.start();
        } catch (RuntimeException e) {
            if (!server.isStopped()) {
                System.err.println("neo4j-local: failed to start on " + HOST + ":" + port);
                e.printStackTrace(System.err);
                System.exit(1);
            }
        }

        server.announce(ready);
        Thread.currentThread().join();
    }

    private void start() {
        DatabaseManagementService started;
        synchronized (this) {
            if (stopped) {
                return;
            }
            userLog = new Log4jLogProvider(System.err, Level.WARN);
            started = builder(home, port, userLog).build();
            service = started;
        }
        if (!started.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).isAvailable(AVAILABILITY_TIMEOUT_MS)) {
            throw new IllegalStateException("database not available after " + AVAILABILITY_TIMEOUT_MS + " ms");
        }
    }

    private synchronized boolean isStopped() {
        return stopped;
    }

    /** Prints the ready line unless a shutdown has already begun. */
    private synchronized void announce(PrintStream out) {
        if (!stopped) {
            out.println("bolt://" + HOST + ":" + port);
            out.flush();
        }
    }

    /** Shuts the server down; waits for a start in progress so that the store is closed cleanly. */
    private void stop() {
        DatabaseManagementService running;
        Log4jLogProvider log;
        synchronized (this) {
            stopped = true;
            running = service;
            log = userLog;
            service = null;
            userLog = null;
        }
        if (running != null) {
            running.shutdown();
        }
        if (log != null) {
            log.close();
        }
        if (temporaryHome) {
            deleteRecursively(home);
        }
    }

    private static DatabaseManagementServiceBuilder builder(Path home, int port, Log4jLogProvider userLog) {
        SocketAddress bolt = new SocketAddress(HOST, port);
        return new DatabaseManagementServiceBuilder(home)
                .setUserLogProvider(userLog)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, bolt)
                .setConfig(BoltConnector.advertised_address, bolt)
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout, Duration.ofSeconds(1))
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(64))
                .setConfig(GraphDatabaseSettings.pagecache_warmup_enabled, false)
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "false")
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(1))
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseInternalSettings.dump_diagnostics, false)
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(2));
    }

    private static String setting(String[] args, int index, String env, String fallback) {
        if (args.length > index && !args[index].isBlank()) {
            return args[index].trim();
        }
        String value = System.getenv(env);
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    /** Returns {@code requested} if it can be bound on the loopback address, or a free port for 0. */
    private static int resolvePort(int requested) throws IOException {
        if (requested < 0 || requested > 65_535) {
            throw new IllegalArgumentException("port out of range: " + requested);
        }
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), requested), 1);
            return socket.getLocalPort();
        }
    }

    private static void deleteRecursively(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            System.err.println("neo4j-local: could not delete " + root + ": " + e);
        }
    }
}
